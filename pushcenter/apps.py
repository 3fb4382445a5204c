from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PushCenterAdminConfig(AdminConfig):
    default_site = "pushcenter.admin_site.PushCenterAdminSite"


class PushCenterConfig(AppConfig):
    name = "pushcenter"
    verbose_name = "Push Center"
