"""How the API documentation shows a station key: the same header as a person's token."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StationKeyScheme(OpenApiAuthenticationExtension):
    target_class = "line.fence.StationAuthentication"
    name = "stationKey"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201 (drf-spectacular's hook)
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A station key, as `Token loupe_st_…`: it inspects its collection, nothing else",
        }
