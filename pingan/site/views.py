from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request,
        "site/error.html",
        {
            "title": _("页面已过期"),
            "message": _("表单已过期或来源无法验证，请刷新页面后重新提交。您填写的内容没有被保存。"),
        },
        status=403,
    )


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "site/error.html",
        {
            "title": _("未找到"),
            "message": _("未找到该页面或记录，或您无权查看。"),
        },
        status=404,
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else _("您无权进行此操作。")
    return render(request, "site/error.html", {"title": _("无权操作"), "message": message}, status=403)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "site/error.html",
        {
            "title": _("请求有误"),
            "message": _("请求无法处理，请检查后重试。"),
        },
        status=400,
    )


def error_500(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/error.html",
        {
            "title": _("系统错误"),
            "message": _("系统出现错误，已记录。请稍后重试。"),
        },
        status=500,
    )
