"""`{% role_at_least project "annotator" as can_upload %}`: whether the signed-in user may do what the
role allows, so a page shows only the controls its user can use (the views check again)."""

from django import template

from annotations import selectors
from annotations.models import Project, Role

register = template.Library()


@register.simple_tag(takes_context=True)
def role_at_least(context: template.Context, project: Project, minimum: str) -> bool:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return selectors.user_has_role(user=request.user, project_id=project.pk, minimum=Role(minimum))
