"""musictagger: multi-label subgenre tags for a local music library, from covers and audio.

The core (tags, library, journal, taxonomy, audio, ml, pipeline, watch) imports neither Qt nor
torch at module import; torch is loaded lazily where inference or training happens and
``musictagger.gui`` is the only Qt code.
"""

__version__ = "0.1.0"
APP_NAME = "musictagger"
