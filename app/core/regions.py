"""GB/T 2260 administrative division codes, read from python-stdnum's maintained table (cn/loc.dat).

Codes are six digits: province `PP0000`, city `PPCC00`, county `PPCCDD`. Only divisions that still
exist are accepted; the table records abolished ones with an end year, e.g. `[1983-2013]白下区`.
"""

import re
from functools import lru_cache
from importlib.resources import files

_ENTRY = re.compile(r'^(\s*)(\d+) \w+="(?:\[(\d*)-(\d*)\])?([^"]+)"')


@lru_cache(maxsize=1)
def current_regions() -> dict[str, str]:
    """Every current code mapped to its name."""
    regions: dict[str, str] = {}
    province = ""
    for line in files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if not match:
            continue
        indent, digits, _start, end, name = match.groups()
        if not indent:
            province = digits
            regions[f"{province}0000"] = name
            continue
        if end:  # abolished
            continue
        regions[province + digits] = name
    return regions


def is_current_region(code: str) -> bool:
    return code in current_regions()


def region_name(code: str) -> str:
    """Full name from province down, e.g. 320102 → 江苏省 南京市 玄武区."""
    regions = current_regions()
    names = []
    for prefix_code in (code[:2] + "0000", code[:4] + "00", code):
        name = regions.get(prefix_code)
        if name and name not in names and name != "市辖区":
            names.append(name)
    return " ".join(names)
