"""Service catalogue: cold load and validation of catalog/services/*.yaml, search index build, search latency.

What ``manage.py check`` and the first request of each process pay (parse the YAML with line
numbers, validate ~310 definitions and their form schemas), and what a citizen's search
costs once the index is built.

    .venv/bin/python -m bench.service_catalogue [--repeat N]

Rows:
- *parse*: ``pingan.core.catalog.load_yaml`` on every service file (pure-Python PyYAML
  with line numbers), and, for comparison, the same constructors on libyaml's C parser
  (the change proposed for ``core.catalog``: identical line numbers).
- *load*: ``catalog.load()`` from cold (parse + validation; memoised helpers cleared).
- *index*: building the pinyin search index.
- *search*: one query of a mix (Chinese, pinyin, initials, English, with filters).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import common

QUERIES = [
    ("身份证", {}),
    ("shenfenzheng", {}),
    ("sfz", {}),
    ("护照", {}),
    ("hz", {}),
    ("passport renewal", {}),
    ("居民身份证换领", {}),
    ("驾照 换证", {"channel": "online"}),
    ("", {"department": "traffic"}),
    ("签注", {"kiosk": "exit_entry"}),
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each cold step")
    args = parser.parse_args(argv)
    common.django_setup(common.database_url("sqlite", "service-catalogue"))

    import yaml

    from pingan.core import catalog as core_catalog
    from pingan.eservices import catalog, search

    files = sorted(catalog.services_dir().glob("*.yaml"))

    def parse() -> int:
        return sum(len(core_catalog.load_yaml(path)["services"]) for path in files)

    class _CLoader(yaml.CSafeLoader):  # the proposal: same constructors, C parser
        pass

    _CLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, core_catalog._construct_mapping)
    _CLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, core_catalog._construct_sequence)

    def parse_c() -> int:
        total = 0
        for path in files:
            with Path(path).open(encoding="utf-8") as handle:
                loader = _CLoader(handle)
                try:
                    total += len(loader.get_single_data()["services"])
                finally:
                    loader.dispose()
        return total

    def cold_load() -> int:
        catalog._working_day_range.cache_clear()
        catalog._schema_error.cache_clear()
        return len(catalog.load())

    def index() -> int:
        search._index = None
        return len(search._entries())

    rows = []
    parsed, count = common.measure(parse, repeat=args.repeat, warmup=1)
    rows.append(["parse (PyYAML, line numbers)", count, common.ms(parsed.p50), common.ms(parsed.p95)])
    parsed_c, _ = common.measure(parse_c, repeat=args.repeat, warmup=1)
    rows.append(["parse (libyaml C parser, same lines)", count, common.ms(parsed_c.p50), common.ms(parsed_c.p95)])
    loaded, count = common.measure(cold_load, repeat=args.repeat, warmup=1)
    rows.append(["load + validate (cold)", count, common.ms(loaded.p50), common.ms(loaded.p95)])
    catalog.reload()
    catalog.services()
    built, count = common.measure(index, repeat=args.repeat, warmup=1)
    rows.append(["search index build", count, common.ms(built.p50), common.ms(built.p95)])
    samples = []
    for query, filters in QUERIES:
        timing, _ = common.measure(lambda q=query, f=filters: search.search(q, **f), repeat=30, warmup=2)
        samples.extend(timing.samples)
    timing = common.Timing(tuple(samples))
    rows.append(["search (one query of the mix)", len(QUERIES), common.ms(timing.p50), common.ms(timing.p95)])

    print(common.machine_line())
    print(common.markdown_table(["step", "services / queries", "p50 ms", "p95 ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
