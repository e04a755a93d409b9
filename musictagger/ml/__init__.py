"""Neural models: model packs, architectures, input preprocessing and device selection.

Nothing here imports torch at module import. :mod:`musictagger.ml.packs`,
:mod:`musictagger.ml.cover_input` and :mod:`musictagger.ml.device` are torch-free to import;
the architecture modules (``cover_cnn``, ``crnn``) import torch at their top and are only ever
imported lazily, through the architecture registry in :mod:`musictagger.ml.packs`, when a model
is actually built.
"""
