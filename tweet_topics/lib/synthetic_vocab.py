"""Vocabulary of the synthetic tweets: the planted themes, background words, hashtags, accounts and the noise
(Spanish, blocklisted spam) that the pipeline's filters must remove.

Pure data, apart from the generator, so that changing a word list is a data change. Order matters: the generator
draws from these lists with a seeded RNG, so reordering them changes every generated tweet.
"""

from __future__ import annotations

# Six themes, each a word list a topic model should recover; a tweet draws 70% of its words from its theme.
THEMES: dict[str, list[str]] = {
    "launches": [
        "launch", "rocket", "falcon", "booster", "liftoff", "countdown", "starship", "payload", "orbit", "pad",
        "engines", "landing", "static", "fire", "vehicle", "stage", "fairing", "scrubbed", "trajectory", "ignition",
        "launchpad", "thrust", "raptor", "droneship", "reusable", "spaceport",
    ],
    "mars_rovers": [
        "mars", "rover", "perseverance", "curiosity", "crater", "jezero", "martian", "sample", "ingenuity",
        "helicopter", "sol", "regolith", "dust", "bedrock", "drill", "rock", "wheels", "olympus", "gale", "core",
        "tubes", "lander", "insight", "terrain",
    ],
    "telescopes": [
        "webb", "telescope", "hubble", "galaxy", "galaxies", "infrared", "mirror", "image", "nebula", "deep",
        "field", "spectrum", "cluster", "light", "exoplanet", "observatory", "lensing", "quasar", "redshift",
        "sunshield", "pixels", "jwst", "chandra", "wavelength",
    ],
    "astronauts_iss": [
        "astronaut", "astronauts", "station", "crew", "spacewalk", "iss", "orbit", "dragon", "soyuz", "expedition",
        "module", "docking", "hatch", "cosmonaut", "microgravity", "experiment", "laboratory", "commander",
        "undock", "capsule", "splashdown", "suits", "training",
    ],
    "moon_missions": [
        "moon", "lunar", "artemis", "orion", "apollo", "regolith", "lander", "south", "pole", "gateway", "crater",
        "footprint", "astronauts", "return", "surface", "base", "landing", "module", "craters", "ice",
        "tranquility", "gravity", "rover", "eagle",
    ],
    "astronomy_events": [
        "eclipse", "meteor", "shower", "comet", "jupiter", "saturn", "venus", "conjunction", "sky", "night",
        "stars", "moonrise", "constellation", "planets", "skywatching", "perseids", "geminids", "aurora", "dawn",
        "horizon", "binoculars", "totality", "equinox",
    ],
}
# Words shared by every theme (the other 30%), so themes overlap the way real topics do.
BACKGROUND = [
    "nasa", "space", "today", "amazing", "news", "look", "wow", "photo", "new", "just", "great", "science", "week",
    "video", "incredible", "people", "watch", "time", "first", "year", "check", "latest", "story", "update",
    "learn", "share", "love", "world", "history", "future", "beautiful", "live", "moment", "team", "big",
    "happening", "tonight",
]
THEME_HASHTAGS = {
    "launches": ["SpaceX", "Starship", "LaunchDay"],
    "mars_rovers": ["Mars", "Perseverance", "MarsRover"],
    "telescopes": ["JWST", "Hubble", "Webb"],
    "astronauts_iss": ["ISS", "Astronaut", "Expedition70"],
    "moon_missions": ["Artemis", "Moon", "Apollo"],
    "astronomy_events": ["Astronomy", "Eclipse", "NightSky"],
}
ACCOUNTS = ["NASA", "SpaceX", "esa", "NASAWebb", "NASAPersevere", "Space_Station", "NASAMoon", "JPL"]
SOURCES = ["Twitter for Android", "Twitter for iPhone", "Twitter Web App", "Twitter for iPad", "TweetDeck"]
LOCATIONS = [None, "United States", "London, England", "Bengaluru, India", "Los Angeles, CA", "Toronto, Ontario"]
EMOJI = ["🚀", "🌕", "🔭", "✨", "🪐", "👩\u200d🚀"]
SPANISH = ["el", "cohete", "despega", "hoy", "hacia", "la", "luna", "con", "los", "astronautas", "de", "la", "mision"]
BLOCKLISTED = ["win", "free", "crypto", "tokens", "on", "binance", "wallet", "airdrop", "dogecoin", "money", "now"]
