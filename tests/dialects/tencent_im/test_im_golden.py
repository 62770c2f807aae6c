"""Golden wire files for every IM endpoint and error, replayed byte for byte (clock frozen)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag.core.service import Service
from tests import golden
from tests.dialects.tencent_im.conftest import OTHER_KEY, SDKAPPID, gen_sig

HERE = Path(__file__).parent / "golden"
CN_ADMIN = "管理员"
TASK = re.compile(r'"TaskId":"[0-9a-f]{32}"')


def test_there_is_a_case_per_endpoint() -> None:
    from polytag.dialects.tencent_im import DIALECT

    sent = " ".join(p.read_text("utf-8") for p in golden.cases(HERE))
    for ep in DIALECT.endpoints:
        assert f'"/v4/{ep.path}"' in sent, ep.path


@pytest.mark.parametrize("case", golden.cases(HERE), ids=lambda p: p.stem)
def test_golden(case: Path, client: TestClient, service: Service, im_app: Any, monkeypatch: Any) -> None:
    frozen = service.clock.now()
    monkeypatch.setattr(service.clock, "now", lambda: frozen)
    vars = {
        "sdkappid": str(SDKAPPID), "usersig": gen_sig(), "usersig_user": gen_sig("xiaojun012"),
        "usersig_other_key": gen_sig(key=OTHER_KEY), "usersig_other_app": gen_sig(sdkappid=1400000002),
        "usersig_cn": gen_sig(CN_ADMIN),
    }
    golden.replay(client, case, vars, normalise=lambda text: TASK.sub('"TaskId":"{task}"', text))

