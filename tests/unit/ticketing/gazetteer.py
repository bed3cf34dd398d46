"""The seed directory's places and topics as the guesses read them."""

import json
from pathlib import Path

from hotline import ticketing
from hotline.ticketing.guesses import Gazetteer

SEED = json.loads((Path(ticketing.__file__).parent / "seed/directory.json").read_text(encoding="utf-8"))


def seed_gazetteer(own_words=None) -> Gazetteer:
    """The seed directory as ``Directory.trees`` gives it."""
    categories = [{"code": c, "name": n, "parent": p, "urgent": u} for c, n, p, u in SEED["categories"]]
    regions = [{"code": c, "name": n, "parent": p, "level": level} for c, n, p, level in SEED["regions"]]
    return Gazetteer.of(categories, regions, own_words)


PLACES = seed_gazetteer()
