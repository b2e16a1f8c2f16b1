from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentsConfig(AppConfig):
    name = "pingan.assignments"
    label = "assignments"
    verbose_name = _("交办督办")
