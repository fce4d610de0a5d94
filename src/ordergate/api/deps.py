"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    from ordergate.app.bootstrap import Application


def get_application(request: Request) -> Application:
    application: Application = request.app.state.application
    return application


AppDep = Annotated["Application", Depends(get_application)]
