"""Reads departments from the editors' catalogue (data/catalogue.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["CatalogueDepartment", "load_departments"]


@dataclass(frozen=True)
class CatalogueDepartment:
    id: str
    name_en: str
    name_tr: str


def load_departments(path: Path) -> list[CatalogueDepartment]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    result = []
    for item in data.get("departments") or []:
        names = item.get("name") or {}
        result.append(
            CatalogueDepartment(
                id=str(item["id"]),
                name_en=str(names.get("en", item["id"])),
                name_tr=str(names.get("tr", names.get("en", item["id"]))),
            )
        )
    if not result:
        raise ValueError(f"no departments in {path}")
    return result
