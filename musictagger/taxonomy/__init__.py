"""The genre taxonomy: canonical labels in a tree, and the mapping of messy genre strings onto them.

The labels live in ``genres.toml`` beside this module (shipped as package data) so that people can
read and extend them without touching code. Ids are flat, stable slugs (``"black-metal"``,
``"melodic-death-metal"``); display names (``"Melodic Death Metal"``) are separate and are what gets
written into files. See the header of ``genres.toml`` for the file format.

:meth:`Taxonomy.normalise` turns what people and databases actually write — ``"Symphonic
power,Gothic"``, ``"Melodic Death/Black"``, ``"Black 'n' Roll"``, ``"Hip-Hop"``, ``"Heavy Metal
(early), Hard Rock (later)"`` — into label ids. It works in three steps:

1. *Split* the text into components at list separators (``, ; | / +`` and brackets), after
   dropping "with X influences" clauses (an influence is not the band's genre). Adjacent
   components that say nothing alone but form a known name together are joined again, which
   repairs strings that were split in the wrong places (``"Post-,Rock"``, ``"Trip-,Hop"``).
2. *Match* each component's words greedily, longest phrase first, against every name, alias,
   phrase and ignored word of the taxonomy. Matching ignores case, accents, hyphens, apostrophes
   and spacing ("Post-Metal" = "post metal" = "postmetal"); a " Metal" suffix is optional for
   metal labels ("Black" = "Black Metal"); adjectives such as Melodic, Raw or Epic are known
   words without a label of their own, so "Melodic Black" is Black Metal.
3. *Resolve* context words. "Folk", "Progressive", "Gothic", "Industrial"… mean one thing next to
   a metal style and another on their own; they take the meaning of the top-level genres that the
   rest of the description names (or of the ``context`` argument), else their default.

The result lists the most specific labels found, in order of appearance: a label that is an
ancestor of another result is left out (``closure`` puts it back when a caller wants parents).
Nothing recognised gives ``[]`` — no label is better than a wrong one.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeGuard

from musictagger.errors import TaxonomyError

__all__ = ["Label", "Taxonomy", "normalise", "map_free_tags", "match_key"]

Kind = Literal["broad", "sub"]

_DATA_FILE = "genres.toml"
_SCHEMA = 1
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LABEL_KEYS = {"name", "parent", "aliases", "kind"}
# The suffix that metal-archives style strings leave out ("Black" for "Black Metal").
_OPTIONAL_SUFFIX = " metal"
# Glued words ("Progressiveinstrumental", "blackmetal") are split only into parts this long.
_MIN_PART = 2
# normalise() results are cached per instance; the cache is emptied when it grows past this.
_CACHE_LIMIT = 65536

# List separators. Brackets separate too, so "Heavy Metal (early)" leaves "early" on its own.
_COARSE_SPLIT = re.compile(r"[,;|\n\r\t\0()\[\]{}]+")
# Separators that also occur inside names ("Soul/R&B", "Hip-Hop/Rap"), tried after whole names.
_FINE_SPLIT = re.compile(r"\s*[/+]\s*|\s+-\s+")
# "Progressive Metal with Jazz influences": the clause names an influence, not the genre.
_WITH_CLAUSE = re.compile(r"\bwith\b.*", re.IGNORECASE | re.DOTALL)
_APOSTROPHES = re.compile(r"['\u2018\u2019`\u00b4]")
_NON_WORD = re.compile(r"[\W_]+")


def match_key(text: str) -> str:
    """The form in which genre strings are compared: accents, case, punctuation and spacing
    folded away (``"Post-Metal"`` → ``"post metal"``, ``"Rock 'n' Roll"`` → ``"rock n roll"``,
    ``"R&B"`` → ``"r and b"``)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _APOSTROPHES.sub("", text.replace("&", " and "))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _squash(key: str) -> str:
    return key.replace(" ", "")


@dataclass(frozen=True)
class Label:
    """One canonical genre label. ``id`` is stable and stored; ``name`` is shown and written."""

    id: str
    name: str
    parent: str | None
    aliases: tuple[str, ...]
    kind: Kind


@dataclass(frozen=True)
class _Meaning:
    """What a matched phrase stands for: fixed labels, or labels that depend on context.

    ``by_context`` pairs a top-level label id with the labels the phrase means when the
    description names that genre; ``labels`` is then the default. An empty meaning is a known
    word without a label (an adjective, a scene, an era).
    """

    labels: tuple[str, ...] = ()
    by_context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def says_something(self) -> bool:
        return bool(self.labels) or any(labels for _, labels in self.by_context)

    def resolve(self, contexts: Iterable[str], preferred: str | None) -> tuple[str, ...]:
        if not self.by_context:
            return self.labels
        meanings = dict(self.by_context)
        if preferred is not None and preferred in meanings:
            return meanings[preferred]
        present = set(contexts)
        for context, labels in self.by_context:
            if context in present:
                return labels
        return self.labels


class Taxonomy:
    """A tree of genre labels with a normaliser for free-form genre strings.

    Build one with :meth:`default` (the bundled labels) or :meth:`from_file`. Instances are
    read-only after construction and safe to share between threads (the normalise cache only
    ever holds complete results).
    """

    def __init__(
        self,
        labels: Iterable[Label],
        phrases: Mapping[str, Iterable[str]] | None = None,
        context_words: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
        ignore: Iterable[str] = (),
        source: str = "<taxonomy>",
    ) -> None:
        self._source = source
        self._labels: dict[str, Label] = {}
        for label in labels:
            if label.id in self._labels:
                raise TaxonomyError(f"{source}: duplicate label id {label.id!r}")
            self._labels[label.id] = label
        self._check_tree()
        self._children: dict[str | None, list[str]] = {}
        for label in self._labels.values():
            self._children.setdefault(label.parent, []).append(label.id)
        self._ancestors: dict[str, tuple[str, ...]] = {i: self._walk_up(i) for i in self._labels}
        self._lookup: dict[str, str] = {}
        self._build_lookup()
        self._exact: dict[str, _Meaning] = {}
        self._build_index(phrases or {}, context_words or {}, ignore)
        self._squashed = self._build_squashed()
        self._vocabulary = {word for key in self._exact for word in key.split()}
        self._max_words = max((len(key.split()) for key in self._exact), default=1)
        self._cache: dict[tuple[str, str | None], tuple[str, ...]] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def default(cls) -> Taxonomy:
        """The bundled taxonomy (loaded once, then shared)."""
        return _default_taxonomy()

    @classmethod
    def from_file(cls, path: str | Path) -> Taxonomy:
        """Load a taxonomy TOML file (same format as the bundled ``genres.toml``)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaxonomyError(f"{path}: cannot read taxonomy: {exc}") from exc
        return cls.from_toml(text, source=str(path))

    @classmethod
    def from_toml(cls, text: str, source: str = "<taxonomy>") -> Taxonomy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TaxonomyError(f"{source}: not valid TOML: {exc}") from exc
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<taxonomy>") -> Taxonomy:
        """Build from the parsed TOML structure, checking every field's type."""
        schema = data.get("schema", _SCHEMA)
        if schema != _SCHEMA:
            raise TaxonomyError(f"{source}: schema {schema!r} is not supported (expected {_SCHEMA})")
        unknown = set(data) - {"schema", "labels", "phrases", "context_words", "ignore"}
        if unknown:
            raise TaxonomyError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}")
        raw_labels = data.get("labels")
        if not isinstance(raw_labels, dict) or not raw_labels:
            raise TaxonomyError(f"{source}: no [labels.<id>] tables")
        labels = [_label_from_table(source, label_id, table) for label_id, table in raw_labels.items()]

        phrases = data.get("phrases", {})
        if not isinstance(phrases, dict) or not all(_is_str_list(v) for v in phrases.values()):
            raise TaxonomyError(f"{source}: [phrases] must map strings to lists of label ids")
        context_words = data.get("context_words", {})
        if not isinstance(context_words, dict) or not all(
            isinstance(v, dict) and all(_is_str_list(ids) for ids in v.values()) for v in context_words.values()
        ):
            raise TaxonomyError(f"{source}: [context_words] must map words to {{context = [ids], default = [ids]}}")
        ignore_table = data.get("ignore", {})
        ignore = ignore_table.get("words", []) if isinstance(ignore_table, dict) else None
        if not _is_str_list(ignore):
            raise TaxonomyError(f"{source}: [ignore] words must be a list of strings")
        return cls(labels, phrases, context_words, ignore, source=source)

    def _check_tree(self) -> None:
        names: dict[str, str] = {}
        for label in self._labels.values():
            if label.parent is not None and label.parent not in self._labels:
                raise TaxonomyError(f"{self._source}: label {label.id!r} has unknown parent {label.parent!r}")
            folded = label.name.casefold()
            if folded in names:
                raise TaxonomyError(
                    f"{self._source}: labels {names[folded]!r} and {label.id!r} share the name {label.name!r}"
                )
            names[folded] = label.id
        for label in self._labels.values():
            seen = {label.id}
            parent = label.parent
            while parent is not None:
                if parent in seen:
                    raise TaxonomyError(f"{self._source}: parent cycle through {label.id!r}")
                seen.add(parent)
                parent = self._labels[parent].parent

    def _walk_up(self, label_id: str) -> tuple[str, ...]:
        chain = []
        parent = self._labels[label_id].parent
        while parent is not None:
            chain.append(parent)
            parent = self._labels[parent].parent
        return tuple(chain)

    def _build_lookup(self) -> None:
        for label in self._labels.values():
            for text in (label.id, label.name, *label.aliases):
                folded = " ".join(text.casefold().split())
                owner = self._lookup.setdefault(folded, label.id)
                if owner != label.id:
                    raise TaxonomyError(f"{self._source}: {text!r} names both {owner!r} and {label.id!r}")

    def _build_index(
        self,
        phrases: Mapping[str, Iterable[str]],
        context_words: Mapping[str, Mapping[str, Iterable[str]]],
        ignore: Iterable[str],
    ) -> None:
        """Fill ``self._exact``: match key → meaning.

        Names and aliases of different labels, phrases, context words and ignored words must not
        claim the same key: that would make normalisation depend on file order, so it is an error.
        The one exception is a context word taking over a bare label name ("folk" is Folk unless
        the context is metal). Optional-suffix short forms ("black" for "black metal") give way to
        anything explicit; a short form equal to another label's name is an error unless a context
        word settles it.
        """
        claims: dict[str, tuple[str, _Meaning]] = {}

        def claim(key: str, meaning: _Meaning, what: str) -> None:
            if not key:
                raise TaxonomyError(f"{self._source}: {what} has no letters or digits")
            previous = claims.get(key)
            if previous is not None and previous[1] != meaning:
                raise TaxonomyError(f"{self._source}: {key!r} is claimed by both {previous[0]} and {what}")
            claims[key] = (what, meaning)

        for label in self._labels.values():
            for text in (label.id, label.name, *label.aliases):
                claim(match_key(text), _Meaning((label.id,)), f"label {label.id!r}")
        label_keys = dict(claims)
        for text, ids in phrases.items():
            claim(match_key(text), _Meaning(self._known_ids(ids, f"phrase {text!r}")), f"phrase {text!r}")
        contextual: set[str] = set()
        for text, by_context in context_words.items():
            what = f"context word {text!r}"
            default = self._known_ids(by_context.get("default", ()), what)
            pairs = []
            for context, ids in by_context.items():
                if context == "default":
                    continue
                if context not in self._labels or self._labels[context].parent is not None:
                    raise TaxonomyError(f"{self._source}: {what}: context {context!r} is not a top-level label")
                pairs.append((context, self._known_ids(ids, what)))
            key = match_key(text)
            if key in label_keys:  # a context word may take over a bare label name ("folk")
                del claims[key]
            claim(key, _Meaning(default, tuple(pairs)), what)
            contextual.add(key)
        for text in ignore:
            claim(match_key(text), _Meaning(), f"ignored word {text!r}")

        for label in self._labels.values():
            for text in (label.name, *label.aliases):
                # Only a separate word: "Post-Metal" has no short form "Post".
                if not " ".join(text.casefold().split()).endswith(_OPTIONAL_SUFFIX):
                    continue
                short = match_key(text)[: -len(_OPTIONAL_SUFFIX)]
                if not short:
                    continue
                owner = label_keys.get(short)
                if owner is not None and owner[1].labels != (label.id,) and short not in contextual:
                    raise TaxonomyError(
                        f"{self._source}: {short!r} (short for {text!r}) is also {owner[0]}; "
                        "settle it in [context_words]"
                    )
                claims.setdefault(short, (f"label {label.id!r}", _Meaning((label.id,))))
        self._exact = {key: meaning for key, (_, meaning) in claims.items()}

    def _known_ids(self, ids: Iterable[str], what: str) -> tuple[str, ...]:
        ids = tuple(ids)
        for label_id in ids:
            if label_id not in self._labels:
                raise TaxonomyError(f"{self._source}: {what} refers to unknown label {label_id!r}")
        return ids

    def _build_squashed(self) -> dict[str, _Meaning]:
        """Spacing-free keys ("postmetal", "hiphop"), kept only where they are unambiguous."""
        squashed: dict[str, _Meaning | None] = {}
        for key, meaning in self._exact.items():
            flat = _squash(key)
            if flat in squashed and squashed[flat] != meaning:
                squashed[flat] = None
            else:
                squashed[flat] = meaning
        for key, meaning in self._exact.items():  # an exact single word always wins
            if " " not in key:
                squashed[key] = meaning
        return {k: m for k, m in squashed.items() if m is not None}

    # ------------------------------------------------------------------ the tree

    def __contains__(self, label_id: object) -> bool:
        return label_id in self._labels

    def __getitem__(self, label_id: str) -> Label:
        try:
            return self._labels[label_id]
        except KeyError:
            raise KeyError(f"unknown genre label id {label_id!r}") from None

    def __len__(self) -> int:
        return len(self._labels)

    def labels(self) -> list[Label]:
        """Every label, in file order (parents before their children)."""
        return list(self._labels.values())

    def ids(self) -> list[str]:
        return list(self._labels)

    def parents(self, label_id: str) -> list[str]:
        """All ancestors of a label, nearest first (``[]`` for a top-level genre)."""
        return list(self._ancestors[self[label_id].id])

    def root(self, label_id: str) -> str:
        """The top-level genre a label belongs to (itself for a top-level genre)."""
        chain = self.parents(label_id)
        return chain[-1] if chain else label_id

    def closure(self, ids: Iterable[str]) -> list[str]:
        """The given ids followed by all their ancestors, each once, in a stable order.

        The given ids keep their order and come first; ancestors follow in the order they are
        reached (nearest first per label), so ``["black-metal", "death-metal"]`` gives
        ``["black-metal", "death-metal", "metal"]``.
        """
        ids = list(ids)
        out = dict.fromkeys(self[i].id for i in ids)
        for label_id in ids:
            out.update(dict.fromkeys(self._ancestors[label_id]))
        return list(out)

    def children(self, label_id: str) -> list[str]:
        """Direct children of a label, in file order."""
        return list(self._children.get(self[label_id].id, ()))

    def roots(self) -> list[str]:
        """Top-level genres, in file order."""
        return list(self._children.get(None, ()))

    def name(self, label_id: str) -> str:
        return self[label_id].name

    def to_names(self, ids: Iterable[str]) -> list[str]:
        return [self[i].name for i in ids]

    def lookup(self, name_or_id: str) -> str | None:
        """The id whose id, display name or alias is exactly ``name_or_id`` (case-insensitive,
        surrounding and repeated spaces ignored), else None. For completers and user input that
        must name one label; use :meth:`normalise` for free-form strings."""
        return self._lookup.get(" ".join(name_or_id.casefold().split()))

    # ------------------------------------------------------------------ normalisation

    def normalise(self, text: str, *, context: str | None = None) -> list[str]:
        """Canonical label ids for a free-form genre string (see the module docstring).

        ``context`` names a top-level genre the text is known to belong to — ``"metal"`` for a
        metal band's style, where a bare "Folk" or "Progressive" means the metal style. Without it
        the context comes from the text itself. Deterministic; results are cached.
        """
        cache_key = (text, context)
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = self._resolve(self._components(text), context)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[cache_key] = cached
        return list(cached)

    def normalise_many(self, texts: Iterable[str], *, context: str | None = None) -> list[str]:
        """Labels for several genre values of one item (e.g. a file's GENRE tags), in order.

        The values are read as one description: "Folk" beside "Black Metal" is Folk Metal, and a
        label is left out when a more specific one below it is present, exactly as for the parts
        of a single comma-separated string.
        """
        components: list[str] = []
        for text in texts:
            components.extend(self._components(text))
        return list(self._resolve(components, context))

    def _components(self, text: str) -> list[str]:
        """Split one string into components; a piece that is a known name as a whole ("Soul/R&B",
        "Hip-Hop/Rap") is not split at its slash."""
        components: list[str] = []
        for piece in _COARSE_SPLIT.split(text):
            piece = _WITH_CLAUSE.sub("", piece).strip()
            if not piece:
                continue
            if self._known_key(match_key(piece)):
                components.append(piece)
            else:
                components.extend(p for p in _FINE_SPLIT.split(piece) if p.strip())
        return components

    def _known_key(self, key: str) -> bool:
        return bool(key) and (key in self._exact or _squash(key) in self._squashed)

    def _resolve(self, components: list[str], context: str | None) -> tuple[str, ...]:
        meanings: list[_Meaning] = []
        i = 0
        while i < len(components):
            parsed = self._parse(components[i])
            joined_to = i
            if not any(m.says_something for m in parsed):
                joined_to, parsed = self._rejoin(components, i, parsed)
            meanings.extend(parsed)
            i = joined_to + 1

        contexts = {self.root(label_id) for m in meanings if not m.by_context for label_id in m.labels}
        found: dict[str, None] = {}
        for meaning in meanings:
            found.update(dict.fromkeys(meaning.resolve(contexts, context)))
        implied = {ancestor for label_id in found for ancestor in self._ancestors[label_id]}
        return tuple(label_id for label_id in found if label_id not in implied)

    def _rejoin(self, components: list[str], start: int, parsed: list[_Meaning]) -> tuple[int, list[_Meaning]]:
        """Join a component that says nothing on its own with the next ones when together they
        form a known name ("New", "Wave", "Of british heavy" → NWOBHM; "E", "B", "M" → EBM)."""
        for end in range(min(len(components), start + 4) - 1, start, -1):
            key = match_key(" ".join(components[start : end + 1]))
            if self._known_key(key):
                return end, self._parse(key)
        return start, parsed

    def _parse(self, component: str) -> list[_Meaning]:
        """Greedy longest-phrase matching of one component's words."""
        words = self._unglue(match_key(component).split())
        meanings: list[_Meaning] = []
        i = 0
        while i < len(words):
            for size in range(min(self._max_words, len(words) - i), 0, -1):
                window = words[i : i + size]
                meaning = self._exact.get(" ".join(window))
                if meaning is None:
                    meaning = self._squashed.get("".join(window))
                if meaning is not None:
                    meanings.append(meaning)
                    i += size
                    break
            else:
                i += 1  # an unknown word carries no label
        return meanings

    def _unglue(self, words: list[str]) -> list[str]:
        """Split unknown words glued from two known ones ("progressiveinstrumental")."""
        out: list[str] = []
        for word in words:
            if word in self._vocabulary or word in self._squashed:
                out.append(word)
                continue
            for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
                head, tail = word[:cut], word[cut:]
                if head in self._vocabulary and tail in self._vocabulary:
                    out.extend((head, tail))
                    break
            else:
                out.append(word)
        return out


def _is_str_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _label_from_table(source: str, label_id: str, table: object) -> Label:
    if not _ID_RE.match(label_id):
        raise TaxonomyError(f"{source}: label id {label_id!r} is not a lowercase slug like 'black-metal'")
    if not isinstance(table, dict):
        raise TaxonomyError(f"{source}: [labels.{label_id}] must be a table")
    unknown = set(table) - _LABEL_KEYS
    if unknown:
        raise TaxonomyError(f"{source}: [labels.{label_id}] has unknown key(s) {', '.join(sorted(unknown))}")
    name = table.get("name")
    parent = table.get("parent")
    aliases = table.get("aliases", [])
    if not isinstance(name, str) or not name.strip():
        raise TaxonomyError(f"{source}: [labels.{label_id}] needs a name")
    if parent is not None and not isinstance(parent, str):
        raise TaxonomyError(f"{source}: [labels.{label_id}] parent must be a label id")
    if not _is_str_list(aliases):
        raise TaxonomyError(f"{source}: [labels.{label_id}] aliases must be a list of strings")
    kind = table.get("kind", "broad" if parent is None else "sub")
    if kind not in ("broad", "sub"):
        raise TaxonomyError(f"{source}: [labels.{label_id}] kind must be 'broad' or 'sub'")
    return Label(id=label_id, name=name.strip(), parent=parent, aliases=tuple(aliases), kind=kind)


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    resource = resources.files(__name__).joinpath(_DATA_FILE)
    return Taxonomy.from_toml(resource.read_text(encoding="utf-8"), source=f"{__name__}/{_DATA_FILE}")


def normalise(text: str, *, context: str | None = None) -> list[str]:
    """:meth:`Taxonomy.normalise` on the bundled taxonomy."""
    return Taxonomy.default().normalise(text, context=context)


def map_free_tags(tags: Iterable[str], taxonomy: Taxonomy | None = None) -> dict[str, list[str]]:
    """Label ids for each free tag of a model's vocabulary (e.g. the MSD top-50 tags of the Choi
    et al. 2016 CRNN), tag by tag and without shared context: "female vocalists", "80s" or
    "beautiful" map to ``[]``, "heavy metal" to Heavy Metal, "chillout" to Downtempo."""
    taxonomy = taxonomy or Taxonomy.default()
    return {tag: taxonomy.normalise(tag) for tag in tags}
