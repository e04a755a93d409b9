"""Learning from the user's own library: subgenre heads on pretrained embeddings.

No bundled model can know the subgenres a metal fan cares about from public data; the labels exist
in one place — the user's tagged albums. ``learn`` turns them into two packs in the user's model
folder, in stages:

1. **scan** the roots; each album's genre (and style) tags go through the taxonomy, closed under
   parents (a "Melodic Death Metal" album is a positive for Death Metal and Metal);
2. **embed**: the bundled default packs run over the albums through the engine with its result
   cache, which keeps each cover's and each track's embedding (EfficientNet-Lite style statistics;
   musicnn's 200-d embedding) keyed by file identity — computed once, so re-learning after tags
   change costs seconds; an album's audio embedding is the mean over its tracks;
3. **labels**: a label needs ``min_albums`` albums by at least ``min_artists`` artists to be learnt;
   the others are reported with the reason, never trained on noise;
4. **cross-validate** per kind, artist-grouped (:mod:`musictagger.training.heads`): out-of-fold
   probabilities give per-label AP and ROC-AUC, calibrated thresholds, which sibling subgenres get
   confused, and the albums whose *existing* tags disagree most with what was learnt (a "check my
   tags" list);
5. **fit** the heads on every album and save ``my-library-cover`` / ``my-library-audio``: the base
   pack's architecture and backbones with the new head, its embedding unchanged (so similar-album
   search can use either); the artist prior's per-label quality (leave-one-album-out AP over the
   library) goes into the cover pack's manifest for fusion to weigh it.

The packs record the roots they learnt from; ``suggest`` then uses them as the *library* source,
with "looks like / sounds like" albums and the artist prior (:mod:`musictagger.pipeline.evidence`).
"""

from __future__ import annotations

import html
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musictagger.library.types import artist_key
from musictagger.progress import CancelToken, ProgressCallback
from musictagger.training.data import Dataset, DatasetError, Item, from_folder

USER_PACK = {"cover": "my-library-cover", "audio": "my-library-audio"}
MIN_ALBUMS = 6
MIN_ARTISTS = 2
MAX_FOLDS = 5
CHECK_TAGS = 25  # albums in the "check my tags" list


@dataclass
class LabelResult:
    label: str
    name: str
    albums: int
    artists: int
    learnt: bool
    why: str = ""  # why not learnt
    ap: float | None = None  # out-of-fold, per kind: {"cover": …, "audio": …} in ``per_kind``
    auc: float | None = None
    per_kind: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass
class LearnedPack:
    kind: str
    name: str
    path: str
    mode: str  # "head on <base pack>"
    base: str | None  # the pack whose backbones and embedding it shares
    labels: list[str]
    label_counts: dict[str, int]
    albums_used: int
    albums_skipped: int
    macro_ap: float | None
    per_label_ap: dict[str, float | None]
    elapsed_s: float
    folds: int = 0
    macro_auc: float | None = None


@dataclass
class TagCheck:
    """An album whose tags disagree with what was learnt from the rest of the library."""

    folder: str
    album: str | None
    album_artist: str | None
    doubtful: list[tuple[str, float]]  # (label it carries, out-of-fold probability)
    missing: list[tuple[str, float]]  # (label it lacks, out-of-fold probability)
    score: float


@dataclass
class Confusion:
    """Among sibling subgenres (children of one parent): row = tagged, column = scored highest."""

    parent: str
    labels: list[str]
    counts: list[list[int]]


@dataclass
class LearnReport:
    trained: list[LearnedPack] = field(default_factory=list)
    not_trained: dict[str, str] = field(default_factory=dict)  # kind -> why not
    albums_used: int = 0
    albums_skipped: int = 0
    labels: list[LabelResult] = field(default_factory=list)
    check_my_tags: list[TagCheck] = field(default_factory=list)
    confusions: list[Confusion] = field(default_factory=list)
    html_path: str | None = None
    embedded: int = 0  # albums whose embeddings had to be computed (the rest came from the cache)

    def summary(self) -> str:
        lines = [f"{self.albums_used} albums with usable genre tags ({self.albums_skipped} without)."]
        for p in self.trained:
            ap = "n/a" if p.macro_ap is None else f"{p.macro_ap:.2f}"
            lines.append(
                f"{p.name} ({p.mode}, {p.albums_used} albums, {p.folds}-fold cross-validation by artist): "
                f"{len(p.labels)} labels, macro AP {ap}"
            )
        lines.append("")
        lines.append(f"{'label':28} {'albums':>6} {'artists':>7} {'cover AP':>9} {'audio AP':>9}")
        for r in self.labels:
            if r.learnt:
                c = r.per_kind.get("cover", {}).get("ap")
                a = r.per_kind.get("audio", {}).get("ap")
                lines.append(
                    f"{r.name:28} {r.albums:6d} {r.artists:7d} {'n/a' if c is None else f'{c:.2f}':>9} "
                    f"{'n/a' if a is None else f'{a:.2f}':>9}"
                )
        skipped = [r for r in self.labels if not r.learnt]
        if skipped:
            lines.append("")
            lines.append("Not learnt:")
            lines += [f"  {r.name}: {r.why}" for r in skipped]
        for kind, why in self.not_trained.items():
            lines.append(f"{kind}: not trained — {why}")
        for confusion in self.confusions:
            worst = _worst_confusion(confusion)
            if worst:
                lines.append(f"Confused most under {confusion.parent}: {worst}")
        if self.check_my_tags:
            lines.append("")
            lines.append("Check my tags (existing tags that disagree most with what was learnt):")
            for t in self.check_my_tags[:10]:
                parts = [f"tagged {lab} but scores {p:.0%}" for lab, p in t.doubtful[:2]]
                parts += [f"looks {lab} ({p:.0%}) but is not tagged so" for lab, p in t.missing[:2]]
                lines.append(f"  {t.album_artist or '?'} — {t.album or Path(t.folder).name}: {'; '.join(parts)}")
        if self.html_path:
            lines.append(f"\nreport: {self.html_path}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _worst_confusion(c: Confusion) -> str:
    best, text = 0, ""
    for i, row in enumerate(c.counts):
        for j, n in enumerate(row):
            if i != j and n > best:
                best, text = n, f"{_name(c.labels[i])} albums scored as {_name(c.labels[j])} ({n})"
    return text


def _name(label: str) -> str:
    from musictagger.training.report import _label_name

    return _label_name(label)


def _base_pack(kind: str) -> Any:
    """The bundled default pack of ``kind`` that makes embeddings on a pretrained backbone."""
    from musictagger.pipeline import select_packs

    for p in select_packs("bundled"):
        if p.kind == kind and p.manifest.backbones:
            return p
    return None


def learn(
    roots: Sequence[str | Path],
    *,
    kinds: Sequence[str] = ("cover", "audio"),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    device: str = "auto",
    seed: int = 0,
    base: dict[str, Any] | None = None,
    min_albums: int = MIN_ALBUMS,
    min_artists: int = MIN_ARTISTS,
    out_dir: str | Path | None = None,
    config: Any = None,
    html_report: bool = True,
    **_ignored: Any,
) -> LearnReport:
    """Train the user's packs from the tagged albums under ``roots`` (see the module docstring).

    ``base`` maps a kind to the pack whose embedding to learn on (default: the bundled default pack
    of that kind). ``out_dir`` defaults to the user model folder.
    """
    from musictagger.config import Config
    from musictagger.paths import app_dirs

    config = config or Config()
    target = Path(out_dir) if out_dir is not None else app_dirs().ensure().models
    report = LearnReport()
    try:
        ds = from_folder(roots, "audio", min_count=1, config=config, progress=progress, cancel=cancel)
    except DatasetError as exc:
        report.not_trained = {k: str(exc) for k in kinds}
        return report
    report.albums_used, report.albums_skipped = len(ds.items), ds.skipped
    # What can be learnt depends on the tags alone: known before a single cover is looked at.
    usable, results = _choose_labels(ds, min_albums, min_artists)
    report.labels = results
    if not usable:
        why = f"no genre has {min_albums} albums by {min_artists} or more artists"
        report.not_trained = dict.fromkeys(kinds, why)
        return report
    bases = {k: (base or {}).get(k) or _base_pack(k) for k in kinds}
    embeddings, report.embedded = _embed(
        ds.items, [b for b in bases.values() if b is not None], config, device, progress, cancel
    )
    oof: dict[str, tuple[list[Item], np.ndarray]] = {}
    for kind in kinds:
        started = time.monotonic()
        pack = bases.get(kind)
        if pack is None:
            report.not_trained[kind] = f"no bundled {kind} pack with a pretrained backbone to learn on"
            continue
        vectors = embeddings.get(pack.name, {})
        items = [it for it in ds.items if it.key in vectors]
        try:
            learned, probs, aucs = _learn_kind(
                kind, pack, items, vectors, usable, target, seed, roots, progress, cancel
            )
        except DatasetError as exc:
            report.not_trained[kind] = str(exc)
            continue
        learned.elapsed_s = time.monotonic() - started
        learned.albums_skipped = ds.skipped + len(ds.items) - len(items)
        report.trained.append(learned)
        oof[kind] = (items, probs)
        for r in results:
            if r.learnt:
                r.per_kind[kind] = {"ap": learned.per_label_ap.get(r.label), "auc": aucs.get(r.label)}
    for r in results:
        aps = [ap for v in r.per_kind.values() if (ap := v.get("ap")) is not None]
        r.ap = max(aps) if aps else None
        label_aucs = [auc for v in r.per_kind.values() if (auc := v.get("auc")) is not None]
        r.auc = max(label_aucs) if label_aucs else None
    if oof:
        items, probs = _combined_oof(oof, usable)
        report.confusions = _confusions(items, probs, usable)
        report.check_my_tags = _check_tags(items, probs, usable)
    if html_report and report.trained:
        path = target / "my-library-report.html"
        path.write_text(render_html(report), encoding="utf-8")
        report.html_path = str(path)
    return report


def _embed(items, packs, config, device, progress, cancel) -> tuple[dict[str, dict[str, Any]], int]:
    """(pack name → album key → album embedding, how many albums had to be computed), through the
    engine and its result cache."""
    from musictagger.pipeline.cache import ResultCache
    from musictagger.pipeline.suggester import Suggester

    out: dict[str, dict[str, Any]] = {p.name: {} for p in packs}
    computed = 0
    if not packs:
        return out, 0
    albums = [it.album for it in items if it.album is not None]
    key_of = {id(it.album): it.key for it in items if it.album is not None}
    with ResultCache() as cache:
        suggester = Suggester(packs, config, device=device, cache=cache)
        for result, album in zip(suggester.run(albums, progress=_stage(progress, "embed"), cancel=cancel), albums):
            computed += 0 if result.cached else 1
            for name, vec in result.embeddings.items():
                out[name][key_of[id(album)]] = vec
        cache.prune()  # files gone or changed since: their outputs and embeddings go
    return out, computed


def _stage(progress: ProgressCallback | None, stage: str) -> ProgressCallback | None:
    if progress is None:
        return None
    from dataclasses import replace

    return lambda p: progress(replace(p, stage=stage))


def _choose_labels(ds: Dataset, min_albums: int, min_artists: int) -> tuple[list[str], list[LabelResult]]:
    albums: dict[str, int] = defaultdict(int)
    artists: dict[str, set[str]] = defaultdict(set)
    for it in ds.items:
        for lab in it.labels:
            albums[lab] += 1
            artists[lab].add(artist_key(it.artist))
    results, usable = [], []
    for lab in sorted(albums, key=lambda k: (-albums[k], k)):
        n, a = albums[lab], len(artists[lab])
        ok = n >= min_albums and a >= min_artists and n < len(ds.items)
        why = ""
        if n < min_albums:
            why = f"{n} album{'s' if n != 1 else ''}; at least {min_albums} are needed"
        elif a < min_artists:
            why = f"all {n} albums are by one artist; a label needs {min_artists} artists to tell style from artist"
        elif n >= len(ds.items):
            why = "every album carries it: nothing to tell apart"
        results.append(LabelResult(lab, _name(lab), n, a, ok, why))
        if ok:
            usable.append(lab)
    return usable, results


def _learn_kind(
    kind, pack, items, vectors, labels, target, seed, roots, progress, cancel
) -> tuple[LearnedPack, np.ndarray, dict[str, float | None]]:
    """Cross-validate, fit and save one kind's pack: (the pack, out-of-fold probabilities, per-label AUC)."""
    from musictagger.training import metrics as M
    from musictagger.training.finish import PackSpec, finish_pack, held_out_metrics, label_matrix, run_without_epochs
    from musictagger.training.heads import CrossValidation, Embeddings, HeadRecipe, cross_validate, fit_on

    if len(items) < 4:
        raise DatasetError(f"only {len(items)} albums have a {kind} embedding")
    n_artists = len({artist_key(it.artist) for it in items})
    folds = min(MAX_FOLDS, n_artists)
    if folds < 2:
        raise DatasetError("every album is by one artist: cross-validation needs two")
    emb = Embeddings(list(items), {"clean": np.stack([vectors[it.key] for it in items]).astype(np.float32)})
    y = label_matrix([it.labels for it in items], labels)
    # Two candidate heads, the better by out-of-fold macro AP: independent labels, and — where the
    # library's top-level genres (almost) never share an album — those genres as one softmax choice.
    candidates = [HeadRecipe(l2=1.0, folds=folds, augmented_views=0, seed=seed)]
    group = exclusive_roots(labels, y)
    if len(group) >= 3:
        candidates.append(HeadRecipe(l2=1.0, folds=folds, augmented_views=0, seed=seed, exclusive=(tuple(group),)))
    tried: list[tuple[float, int, HeadRecipe, CrossValidation]] = []
    for recipe in candidates:
        cv = cross_validate(emb, labels, recipe, progress=_stage(progress, "evaluate"), cancel=cancel)
        ap = M.macro(M.per_label(M.average_precision, y, cv.probs, labels)) or 0.0
        tried.append((ap, len(tried), recipe, cv))
    _, _, recipe, cv = max(tried, key=lambda t: (t[0], -t[1]))
    present = [j for j in range(len(labels)) if 0 < y[:, j].sum() < len(items)]
    if not present:
        raise DatasetError(f"no learnable genre among the albums with a {kind} embedding")
    metrics, thresholds = held_out_metrics(y, cv.probs, labels)
    metrics["cross_validation"] = {"folds": folds, "grouped_by": "artist", **cv.summary()}
    metrics["exclusive_groups"] = [list(g) for g in recipe.exclusive]
    metrics["candidates_macro_ap"] = {("grouped" if r.exclusive else "independent"): ap for ap, _, r, _ in tried}
    head = fit_on(emb, y, np.arange(len(items)), recipe, labels)
    model, arch = _model_with_head(pack, labels, head)
    name = USER_PACK[kind]
    counts = {lab: int(v) for lab, v in zip(labels, y.sum(axis=0))}
    if kind == "cover":
        metrics["artist_prior_ap"] = _artist_prior_quality(items, labels)
    data = {
        "source": "your library: " + ", ".join(str(r) for r in roots),
        "items": len(items),
        "train_items": len(items),
        "val_items": len(items),
        "train_artists": n_artists,
        "val_artists": n_artists,
        "split": "artist-kfold",
        "folds": folds,
        "shared_artists": 0,
        "skipped": 0,
        "unreadable": 0,
        "train_label_counts": counts,
        "val_label_counts": counts,
        "seed": seed,
        "val_fraction": round(1 / folds, 3),
        "date": time.strftime("%Y-%m-%d"),
    }
    spec = PackSpec(
        name=name,
        version="2.0.0",
        kind=kind,
        labels=list(labels),
        input=pack.input,
        architecture=arch,
        description=f"Your library's {kind} model: a head for {len(labels)} of your genres on the embedding of "
        f"{pack.name} {pack.version}, learnt from your own tags.",
        license="GPL-3.0-or-later (your own training); " + pack.license,
        limits=[
            f"Learnt from {len(items)} of your albums by {n_artists} artists; figures are out-of-fold "
            f"({folds}-fold cross-validation grouped by artist), rough for genres with few albums.",
            "It repeats your tagging habits, including mistakes (see the report's check-my-tags list).",
            f"It sees what {pack.name}'s embedding sees: cover style or sound, not band logos or lyrics.",
        ],
        backbones=[r.to_dict() for r in pack.manifest.backbones],
    )
    report = finish_pack(
        target,
        spec,
        model.state_dict(),
        metrics=metrics,
        thresholds=thresholds,
        data=data,
        training={
            "mode": "library",
            "base": f"{pack.name}@{pack.version}#{pack.sha256[:16]}",
            "roots": [str(Path(r).expanduser().resolve()) for r in roots],
        },
        report=run_without_epochs(0.0),
    )
    learned = LearnedPack(
        kind=kind,
        name=name,
        path=str(report.pack_path),
        mode=f"head on {pack.name}",
        base=f"{pack.name} {pack.version}",
        labels=list(labels),
        label_counts=counts,
        albums_used=len(items),
        albums_skipped=0,
        macro_ap=metrics.get("macro_ap"),
        per_label_ap=metrics.get("per_label_ap", {}),
        elapsed_s=0.0,
        folds=folds,
        macro_auc=metrics.get("macro_auc"),
    )
    return learned, cv.probs, metrics.get("per_label_auc", {})


def exclusive_roots(labels: Sequence[str], y: np.ndarray, max_shared: float = 0.01) -> list[str]:
    """Top-level genres (no parent in the taxonomy) that pairwise share at most ``max_shared`` of
    their albums, most frequent first — candidates for one softmax choice."""
    from musictagger.taxonomy import Taxonomy

    tax = Taxonomy.default()
    roots = [j for j, lab in enumerate(labels) if not (tax.parents(lab) if lab in tax else [])]
    roots.sort(key=lambda j: -y[:, j].sum())
    group: list[int] = []
    for j in roots:
        if all((y[:, j] * y[:, k]).sum() <= max_shared * min(y[:, j].sum(), y[:, k].sum()) for k in group):
            group.append(j)
    return [labels[j] for j in group]


def _model_with_head(pack: Any, labels: Sequence[str], head: Any) -> tuple[Any, dict[str, Any]]:
    """The base pack's model with a new classifier that reads the base's own embedding.

    The head was fitted on standardised embeddings ((e − m)/s); that standardisation is folded into
    the classifier (W' = W/s, b' = b − W'·m), so the pack's embedding stays the base's.
    """
    import torch

    from musictagger.ml.packs import build_model

    weight = head.weight / head.std[None, :]
    bias = head.bias - weight @ head.mean
    if pack.architecture["name"] == "cover_head":
        arch = pack.architecture
        arch["params"] = {k: v for k, v in arch["params"].items() if k != "exclusive"}
        arch["params"]["n_labels"] = len(labels)
        arch["params"]["exclusive"] = head.exclusive
    else:
        arch = {"name": "musicnn_head", "params": {"n_labels": len(labels), "frames": int(pack.input["frames"]),
                                                   "exclusive": head.exclusive}}  # fmt: skip
    model = build_model(arch, n_labels=len(labels))
    base_model = pack.load_model("cpu")
    own = model.state_dict()
    for k, v in base_model.state_dict().items():  # backbones and the base's standardisation
        if k in own and own[k].shape == v.shape and not k.startswith("classifier"):
            own[k] = v
    own["classifier.1.weight"] = torch.from_numpy(weight.astype(np.float32))
    own["classifier.1.bias"] = torch.from_numpy(bias.astype(np.float32))
    model.load_state_dict(own)
    return model.eval(), arch


def _artist_prior_quality(items: Sequence[Item], labels: Sequence[str]) -> dict[str, float | None]:
    """Leave-one-album-out AP of the artist prior, per label (albums whose artist has another album)."""
    from musictagger.pipeline.evidence import LibraryAlbum, LibraryEvidence
    from musictagger.training import metrics as M

    albums = [LibraryAlbum(it.key, it.key, None, it.artist, frozenset(it.labels)) for it in items]
    evidence = LibraryEvidence.build(albums, {})
    rows = [i for i, a in enumerate(albums) if len(evidence.by_artist.get(artist_key(a.album_artist), [])) > 1]
    if not rows:
        return dict.fromkeys(labels)
    y = np.zeros((len(rows), len(labels)), dtype=np.float32)
    p = np.zeros_like(y)
    for r, i in enumerate(rows):
        prior = evidence.artist_prior(albums[i].album_artist, exclude_folder=albums[i].folder)
        for j, lab in enumerate(labels):
            y[r, j] = lab in albums[i].labels
            p[r, j] = prior[lab].probability if lab in prior else evidence.base_rate.get(lab, 0.0)
    return M.per_label(M.average_precision, y, p, list(labels))


def _combined_oof(oof: dict[str, tuple[list[Item], np.ndarray]], labels: Sequence[str]):
    """Items with an out-of-fold probability from at least one kind; the mean where both have one."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = defaultdict(int)
    by_key: dict[str, Item] = {}
    for items, probs in oof.values():
        for it, p in zip(items, probs):
            sums[it.key] = sums.get(it.key, 0) + p
            counts[it.key] += 1
            by_key[it.key] = it
    keys = list(by_key)
    return [by_key[k] for k in keys], np.stack([sums[k] / counts[k] for k in keys])


def _confusions(items: Sequence[Item], probs: np.ndarray, labels: Sequence[str]) -> list[Confusion]:
    """Per parent with ≥ 2 learnt children: for albums tagged with exactly one of them, which child scored highest."""
    from musictagger.taxonomy import Taxonomy

    tax = Taxonomy.default()
    index = {lab: j for j, lab in enumerate(labels)}
    children: dict[str, list[str]] = defaultdict(list)
    for lab in labels:
        parents = tax.parents(lab) if lab in tax else []
        if parents:
            children[parents[0]].append(lab)
    out = []
    for parent, kids in sorted(children.items()):
        if len(kids) < 2:
            continue
        counts = [[0] * len(kids) for _ in kids]
        for it, p in zip(items, probs):
            tagged = [k for k, lab in enumerate(kids) if lab in it.labels]
            if len(tagged) != 1:
                continue
            best = int(np.argmax([p[index[lab]] for lab in kids]))
            counts[tagged[0]][best] += 1
        out.append(Confusion(parent, list(kids), counts))
    return out


def _check_tags(items: Sequence[Item], probs: np.ndarray, labels: Sequence[str]) -> list[TagCheck]:
    """Albums whose tags disagree most with their out-of-fold probabilities (most specific labels only)."""
    from musictagger.taxonomy import Taxonomy

    tax = Taxonomy.default()
    leaves = {lab for lab in labels if not any(lab in (tax.parents(o) if o in tax else []) for o in labels)}
    checks = []
    for it, p in zip(items, probs):
        doubtful = sorted(
            ((lab, float(p[j])) for j, lab in enumerate(labels) if lab in leaves and lab in it.labels and p[j] < 0.2),
            key=lambda kv: kv[1],
        )
        missing = sorted(
            (
                (lab, float(p[j]))
                for j, lab in enumerate(labels)
                if lab in leaves and lab not in it.labels and p[j] > 0.8
            ),
            key=lambda kv: -kv[1],
        )
        score = sum(1 - q for _, q in doubtful) + sum(q for _, q in missing)
        if score > 0:
            album = it.album
            checks.append(
                TagCheck(
                    it.key,
                    getattr(album, "album", None),
                    getattr(album, "album_artist", None) or it.artist,
                    [(_name(lab), q) for lab, q in doubtful],
                    [(_name(lab), q) for lab, q in missing],
                    score,
                )
            )
    checks.sort(key=lambda c: -c.score)
    return checks[:CHECK_TAGS]


def render_html(report: LearnReport) -> str:
    """A self-contained page: per-label figures, what was not learnt and why, confusions, check my tags."""
    e = html.escape

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    rows = "".join(
        f"<tr><td>{e(r.name)}</td><td>{r.albums}</td><td>{r.artists}</td>"
        f"<td>{fmt(r.per_kind.get('cover', {}).get('ap'))}</td><td>{fmt(r.per_kind.get('audio', {}).get('ap'))}</td></tr>"
        for r in report.labels
        if r.learnt
    )
    skipped = "".join(f"<li>{e(r.name)}: {e(r.why)}</li>" for r in report.labels if not r.learnt)
    confusions = ""
    for c in report.confusions:
        head = "".join(f"<th>{e(_name(lab))}</th>" for lab in c.labels)
        body = "".join(
            f"<tr><th>{e(_name(c.labels[i]))}</th>" + "".join(f"<td>{n}</td>" for n in row) + "</tr>"
            for i, row in enumerate(c.counts)
        )
        confusions += (
            f"<h3>Under {e(_name(c.parent))}</h3><table><tr><th>tagged ↓ / scored →</th>{head}</tr>{body}</table>"
        )
    checks = "".join(
        f"<tr><td>{e(t.album_artist or '')}</td><td>{e(t.album or Path(t.folder).name)}</td>"
        f"<td>{e('; '.join(f'{lab} {p:.0%}' for lab, p in t.doubtful))}</td>"
        f"<td>{e('; '.join(f'{lab} {p:.0%}' for lab, p in t.missing))}</td><td>{e(t.folder)}</td></tr>"
        for t in report.check_my_tags
    )
    packs = "".join(
        f"<li>{e(p.name)}: {p.albums_used} albums, {p.folds}-fold cross-validation by artist, "
        f"macro AP {fmt(p.macro_ap)}, macro ROC-AUC {fmt(p.macro_auc)}</li>"
        for p in report.trained
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Learnt from my library</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}td,th{{padding:2px 8px;text-align:left}}
table{{border-collapse:collapse}}tr:nth-child(even){{background:#8881}}</style></head><body>
<h1>Learnt from my library</h1><p>{report.albums_used} albums with usable genre tags, {report.albums_skipped} without.
Every figure is out-of-fold: each album scored by a model that never saw its artist.</p><ul>{packs}</ul>
<h2>Genres learnt</h2><table><tr><th>genre</th><th>albums</th><th>artists</th><th>cover AP</th><th>audio AP</th></tr>{rows}</table>
<h2>Not learnt</h2><ul>{skipped or "<li>none</li>"}</ul>
<h2>Sibling subgenres confused</h2>{confusions or "<p>none to compare</p>"}
<h2>Check my tags</h2><p>Albums whose existing tags disagree most with what the rest of the library taught.</p>
<table><tr><th>artist</th><th>album</th><th>tagged, but scores low</th><th>not tagged, but scores high</th><th>folder</th></tr>{checks}</table>
</body></html>"""
