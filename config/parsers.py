"""The API's JSON parser, the default of every route (settings.REST_FRAMEWORK). Its own module: DRF
reads its default parsers while `rest_framework.views` is imported, so this module may import no view."""

import codecs
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# No body the API takes nests deeper than a few levels (a polygon's points are three); Python's json
# recurses per level, so a body of 100,000 '[' would be a RecursionError (a 500) before any check.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply the JSON text's arrays and objects nest (brackets inside strings not counted)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser (NaN and infinity refused), refusing a body nested deeper than
    `MAX_JSON_DEPTH` with a 400 before it is decoded. The default parser of every route."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"JSON parse error - the body is not {encoding} text: {error}") from error
        if json_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels")
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
