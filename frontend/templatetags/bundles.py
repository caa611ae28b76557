"""`{% bundle_built "jobs" as jobs_built %}`: whether the front-end bundle `frontend/dist/<name>.js` is
built (`make install` builds them), so that a page links a bundle only where it exists and works
without it, as the server drew it, where it does not."""

from django import template
from django.contrib.staticfiles import finders

register = template.Library()


@register.simple_tag
def bundle_built(name: str) -> bool:
    """Whether the static files hold `frontend/dist/<name>.js`."""
    return finders.find(f"frontend/dist/{name}.js") is not None
