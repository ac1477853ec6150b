"""Term lists shipped with the package (blocklist, stop words, stream track terms)."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
BLOCKLIST_FILE = CONFIG_DIR / "blocklist.txt"
STOPWORDS_FILE = CONFIG_DIR / "stopwords.txt"
TRACK_TERMS_FILE = CONFIG_DIR / "track_terms.txt"
