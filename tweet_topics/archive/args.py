"""The ``import`` command's arguments, apart from the import itself so ``cli.py`` stays quick to load."""

from __future__ import annotations

import argparse

from tweet_topics.lib.archive.formats import FORMATS


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="archive files (gzip accepted) or s3:// URIs")
    parser.add_argument("--format", default="auto", choices=["auto", *FORMATS], help="default: detected by content")
    parser.add_argument("--dry-run", action="store_true", help="count per hour; write nothing")
