"""``GET /api/alerts/rules.yml``: the metric rules as a Prometheus alerting-rules
file (:mod:`dashboard_core.health.prom_rules`), the rules that cannot travel named
in its header comment and in the ``X-Rules-Not-Exported`` header."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dashboard_core.health.prom_rules import export_rules
from dashboard_core.routes.common import ERRORS, RuntimeDep
from dashboard_core.routes.tags import Tag

RULES_YML = "/alerts/rules.yml"
MEDIA_TYPE = "application/yaml"

router = APIRouter(tags=[Tag.PROMETHEUS])


@router.get(
    RULES_YML,
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "content": {MEDIA_TYPE: {}},
            "description": "A Prometheus rules file (`rule_files` in prometheus.yml), one alerting rule per metric "
            "rule over the names of `/api/metrics`. `X-Rules-Exported` counts them; `X-Rules-Not-Exported` names "
            "the component, agent and suite rules left out (comma-separated; the file's header comment says why).",
        },
    },
    summary="The metric alert rules as a Prometheus alerting-rules file",
)
def rules_yml(rt: RuntimeDep) -> Response:
    export = export_rules(rt.alerts.rules, rt.config.alerting.public_url, rt.config.source)
    headers = {
        "X-Rules-Exported": str(len(export.exported)),
        "X-Rules-Not-Exported": ", ".join(u.name for u in export.left_out),
        "Content-Disposition": 'inline; filename="rules.yml"',
    }
    return Response(export.text, media_type=MEDIA_TYPE, headers=headers)
