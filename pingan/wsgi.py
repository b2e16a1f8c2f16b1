import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Load the service catalogue and its search index once, before gunicorn forks its
    workers (``--preload``): the workers share them instead of each paying ~2 s on its
    first request. Nothing here may leave a database connection open across the fork."""
    from django.db import connections

    from pingan.eservices import catalog, search

    catalog.services()
    search.search("身份证")
    connections.close_all()
    # What start-up made lives as long as the server: out of the cycle collector's sight,
    # its full passes stay short (a pass over it all took ~80 ms in the middle of a
    # request), and the forked workers keep sharing its memory pages.
    gc.collect()
    gc.freeze()


_warm()
