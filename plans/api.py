"""A read-only JSON API for other systems: a plan's progress on a date, and its OpenAPI schema.

A province's smart elderly-care platform reads the same numbers the plan dashboard shows. It
authenticates with a token (`Authorization: Bearer <key>`, see `manage.py create_api_token`);
a browser with a logged-in session may read too. Errors are JSON `{"error": "..."}`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from indicators.models import Indicator
from indicators.progress import SEVERITY, Status, count_by_status
from plans.dashboards import IndicatorRow, TaskRow, plan_period_end
from plans.dashboards import plan_progress as dashboard_progress
from plans.models import ApiToken, Plan
from tasks.progress import TaskState

# ASCII digits only: `\d` would take "２０１９", and date.fromisoformat takes "20191231" too.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # what Plan.code (a SlugField) can hold
CENT = Decimal("0.01")

BAD_DATE = (
    "日期应为 YYYY-MM-DD 格式的有效日期,如 2019-12-31 / "
    "date must be a real date written YYYY-MM-DD, e.g. 2019-12-31"
)
NO_PLAN = "没有这个方案 / no plan with this code"
NO_CREDENTIALS = (
    "需要登录或接口令牌 / authentication required: send the header Authorization: Bearer <token>"
)
WRONG_KEY = "令牌无效或已停用 / the token is not valid or no longer active"
NO_ENDPOINT = "没有这个接口 / no such endpoint"
GET_ONLY = "只支持 GET / only GET is allowed"


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    # Each answer depends on who asks: never from a shared cache.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Authorization"])
    return response


def _error(status: int, message: str) -> JsonResponse:
    return _json({"error": message}, status=status)


def _unauthorized(message: str, *, invalid_token: bool = False) -> JsonResponse:
    response = _error(401, message)
    challenge = 'Bearer realm="api"'
    if invalid_token:
        challenge += ', error="invalid_token"'  # RFC 6750, section 3.1
    response["WWW-Authenticate"] = challenge
    return response


def _refusal(request: HttpRequest) -> JsonResponse | None:
    """The response refusing a request, or None when it may read.

    A request that sends a bearer token is judged by the token alone, never by a session
    cookie beside it: a wrong or revoked key is always refused.
    """
    if request.method not in ("GET", "HEAD"):
        response = _error(405, GET_ONLY)
        response["Allow"] = "GET, HEAD"
        return response
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = ApiToken.objects.find(key.strip())
        if token is None:
            return _unauthorized(WRONG_KEY, invalid_token=True)
        token.mark_used()
        return None
    if request.user.is_authenticated:
        return None
    return _unauthorized(NO_CREDENTIALS)


def parse_date(text: str) -> dt.date | None:
    """A calendar date written YYYY-MM-DD, or None."""
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def number(value: Decimal | None) -> float | None:
    """A decimal as a JSON number rounded to two places (a flow's expected value has more)."""
    if value is None:
        return None
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _indicator_json(row: IndicatorRow) -> dict:
    indicator, a = row.indicator, row.assessment
    return {
        "code": indicator.code,
        "name": indicator.name,
        "unit": indicator.unit,
        "kind": indicator.kind,
        "direction": indicator.direction,
        "clause": indicator.source_clause,
        "expected": number(a.expected),
        "actual": number(a.actual),
        "actual_date": a.actual_on.isoformat() if a.actual_on else None,
        "final_target": number(a.final),
        "status": Status(a.status).value,
        "projected_year": a.projected_year,
        "conflict": bool(indicator.has_conflict),
    }


def _task_json(row: TaskRow) -> dict:
    task = row.task
    return {
        "number": task.number,
        "clause": task.clause,
        "title": task.title,
        "lead": [link.department.name for link in task.lead_links],
        "supporting": [link.department.name for link in task.supporting_links],
        "status": Status(row.status).value,
        "state": task.state,
    }


def _counts(rows: list[dict]) -> dict[str, int]:
    return {status.value: n for status, n in count_by_status(r["status"] for r in rows).items()}


def plan_progress(request: HttpRequest, code: str) -> JsonResponse:
    """Every indicator and reportable task of a plan with its status on `?date=`."""
    if refusal := _refusal(request):
        return refusal
    # Codes are short slugs: anything else is unknown without asking the database (PostgreSQL
    # refuses a NUL byte in a query with an error, not an empty result).
    plan = None
    if len(code) <= Plan._meta.get_field("code").max_length and SLUG.fullmatch(code):
        plan = Plan.objects.select_related("jurisdiction").filter(code=code).first()
    if plan is None:
        return _error(404, NO_PLAN)
    asked = request.GET.get("date", "")
    if asked:
        on = parse_date(asked)
        if on is None:
            return _error(400, BAD_DATE)
    else:
        on = plan_period_end(plan)

    # The same rows the plan dashboard shows, so both always count the same way.
    progress = dashboard_progress(plan, on)
    indicators = [_indicator_json(row) for row in progress.indicators]
    tasks = [_task_json(row) for row in progress.tasks]
    return _json(
        {
            "plan": {
                "code": plan.code,
                "title": plan.title,
                "jurisdiction": plan.jurisdiction.name,
                "start_year": plan.start_year,
                "end_year": plan.end_year,
            },
            "date": on.isoformat(),
            "indicators": indicators,
            "tasks": tasks,
            "summary": {"indicators": _counts(indicators), "tasks": _counts(tasks)},
        }
    )


def openapi(request: HttpRequest) -> JsonResponse:
    """The OpenAPI 3.1 description of this API; public, like any API's documentation."""
    if request.method not in ("GET", "HEAD"):
        response = _error(405, GET_ONLY)
        response["Allow"] = "GET, HEAD"
        return response
    return _json(openapi_schema())


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other address under /api/: a JSON 404 too, so a client always gets JSON back."""
    return _error(404, NO_ENDPOINT)


def _nullable(kind: str, description: str, **extra) -> dict:
    return {"type": [kind, "null"], "description": description, **extra}


def _error_response(description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        **extra,
    }


def _object(properties: dict, description: str = "") -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def openapi_schema() -> dict:
    """The schema, built from the enums the code uses so that the two cannot drift apart."""
    statuses = [status.value for status in SEVERITY]
    with translation.override(None):  # the labels as written, in Chinese
        labels = [f"{status.value} {status.label}" for status in SEVERITY]
    counts = _object(
        {status: {"type": "integer", "minimum": 0} for status in statuses},
        "How many items have each status; every status present, worst first.",
    )
    plan = _object(
        {
            "code": {"type": "string", "examples": ["liucheng"]},
            "title": {"type": "string"},
            "jurisdiction": {"type": "string", "description": "行政区, e.g. 柳城县"},
            "start_year": {"type": "integer"},
            "end_year": {"type": "integer"},
        }
    )
    indicator = _object(
        {
            "code": {"type": "string", "examples": ["new-beds"]},
            "name": {"type": "string"},
            "unit": {"type": "string", "examples": ["张", "%"]},
            "kind": {
                "type": "string",
                "enum": Indicator.Kind.values,
                "description": "flow: yearly amounts that add up; level: a level or rate "
                "reached by a year; deliverable: done (1) or not (0) by a date.",
            },
            "direction": {
                "type": "string",
                "enum": Indicator.Direction.values,
                "description": "at_most: staying under the target is good.",
            },
            "clause": {"type": "string", "description": "The clause that states it, e.g. 一、(一)"},
            "expected": _nullable(
                "number",
                "What the plan expects on actual_date, or on `date` when nothing is reported; "
                "a flow's expected value is cumulative from the plan's start.",
            ),
            "actual": _nullable("number", "The latest value reported on or before `date`."),
            "actual_date": _nullable("string", "The period end of `actual`.", format="date"),
            "final_target": _nullable(
                "number",
                "The final target; for a flow without one, the sum of its yearly amounts; "
                "1 for a deliverable.",
            ),
            "status": {"$ref": "#/components/schemas/Status"},
            "projected_year": _nullable(
                "integer", "When the final target is reached at the pace so far."
            ),
            "conflict": {
                "type": "boolean",
                "description": "Another clause of the document states a different target.",
            },
        }
    )
    task = _object(
        {
            "number": {"type": "string"},
            "clause": {"type": "string", "description": "e.g. 二、(一)3"},
            "title": {"type": "string"},
            "lead": {
                "type": "array",
                "items": {"type": "string"},
                "description": "牵头单位",
            },
            "supporting": {
                "type": "array",
                "items": {"type": "string"},
                "description": "配合单位",
            },
            "status": {"$ref": "#/components/schemas/Status"},
            "state": {
                "type": ["string", "null"],
                "enum": [*TaskState.values, None],
                "description": "The latest state recorded on or before `date`; null if none.",
            },
        },
        "A task without sub-items (sub-items are listed in place of their task).",
    )
    progress = _object(
        {
            "plan": {"$ref": "#/components/schemas/Plan"},
            "date": {"type": "string", "format": "date"},
            "indicators": {"type": "array", "items": {"$ref": "#/components/schemas/Indicator"}},
            "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
            "summary": _object(
                {
                    "indicators": {"$ref": "#/components/schemas/StatusCounts"},
                    "tasks": {"$ref": "#/components/schemas/StatusCounts"},
                }
            ),
        }
    )
    unauthorized = _error_response(
        "No session and no token, or a token that is wrong or deactivated.",
        headers={
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "description": 'Bearer realm="api" (with error="invalid_token" for a bad token)',
            }
        },
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "养老服务规划目标跟踪 API · Elderly-care plan tracker API",
            "version": "1",
            "description": "Read-only. The numbers the plan dashboard shows: each indicator "
            "and task of a plan with its status on a date. Values are reported for 30 June "
            "and 31 December; any date may be asked.",
        },
        "paths": {
            "/api/plans/{code}/progress": {
                "get": {
                    "operationId": "getPlanProgress",
                    "summary": "A plan's indicators and tasks with their status on a date",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The plan's code, e.g. liucheng.",
                        },
                        {
                            "name": "date",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "format": "date"},
                            "description": "YYYY-MM-DD. Absent or empty: the latest half-year "
                            "or year end already past (the plan's first one before it starts).",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The plan's progress.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Progress"}
                                }
                            },
                        },
                        "400": _error_response("`date` is not a real date written YYYY-MM-DD."),
                        "401": unauthorized,
                        "404": _error_response("No plan has this code."),
                        "405": _error_response("Only GET (and HEAD) are allowed."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This description",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "security": [{"bearerAuth": []}, {"sessionAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A key from `manage.py create_api_token <user> --name ...`.",
                },
                "sessionAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                    "description": "The session of a user logged in to the site.",
                },
            },
            "schemas": {
                "Status": {
                    "type": "string",
                    "enum": statuses,
                    "description": "Worst first: " + ", ".join(labels) + ".",
                },
                "StatusCounts": counts,
                "Plan": plan,
                "Indicator": indicator,
                "Task": task,
                "Progress": progress,
                "Error": _object({"error": {"type": "string"}}),
            },
        },
    }
