"""How far a judge's search travels through the code: the project files whose functions run while
one search is submitted, dispatched to every agency, and read back as a dossier, and the packages
those files live in. A figure to compare before and after a re-cut, not a test of behaviour.

Run: ``.venv/bin/python -m pytest -q -s -p tests.conftest ops/bench/footprint_test.py``
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


async def test_files_a_judges_search_touches(make_api: Any) -> None:
    from tests.acceptance.test_search_flow import JUDGE, case_id, search_body

    api = await make_api()
    cid = await case_id(api)
    # Warm up once so that first-call imports and caches do not count.
    _, warm = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    await api.wait_search(warm["id"], JUDGE)

    touched: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_code.co_filename
            if name.startswith(str(ROOT)) and "/tests/" not in name and "/ops/" not in name:
                touched.add(str(Path(name).relative_to(ROOT)))

    sys.setprofile(profile)
    try:
        status, body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                         json=search_body(cid, force_fresh=True))
        assert status == 202, body
        await api.wait_search(body["id"], JUDGE)
    finally:
        sys.setprofile(None)

    files = sorted(f for f in touched if f.startswith("enforcement/"))
    packages = Counter(str(Path(f).parent) for f in files)
    print(f"\nfiles of enforcement/ a judge's search touched: {len(files)} in {len(packages)} packages")
    for package, count in sorted(packages.items()):
        print(f"  {package}: {count}")
    for f in files:
        print("   ", f)
    assert files
