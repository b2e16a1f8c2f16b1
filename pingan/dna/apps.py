from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DnaConfig(AppConfig):
    """The kinship DNA store: sampling with consent, STR profiles under codes, kinship search
    and the examiners' review queue. Kept apart from every other personal record."""

    name = "pingan.dna"
    label = "dna"
    verbose_name = _("亲缘DNA比对")

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.dna import (
            checks,  # noqa: F401  (registers the settings check)
            inbox,
            jobs,
            receivers,  # noqa: F401  (connects the reunion receiver)
            seed,
        )
        from pingan.dna.actions import EXAMINER, SAMPLING_ROLES
        from pingan.dna.models import Candidate, Consent, Profile, Sample, SamplingPoint
        from pingan.dna.queries import CANDIDATE_VIEWERS
        from pingan.site.menu import MenuItem

        examiner = frozenset({EXAMINER})
        access.register(SamplingPoint, access.Policy(org_field="org", public=True, act_roles=frozenset()))
        access.register(
            Consent,
            access.Policy(org_field="org", path_field="org_path", view_roles=SAMPLING_ROLES, act_roles=SAMPLING_ROLES),
        )
        access.register(
            Sample,
            access.Policy(org_field="org", path_field="org_path", view_roles=SAMPLING_ROLES, act_roles=SAMPLING_ROLES),
        )
        # Genotypes: the examiner only (queries.profile_genotype checks the role itself, so
        # an administrator who sees every row's code still never sees an allele).
        access.register(
            Profile, access.Policy(org_field="org", path_field="org_path", view_roles=examiner, act_roles=examiner)
        )
        access.register(
            Candidate,
            access.Policy(
                org_field="org",
                path_field="missing_org_path",
                view_roles=CANDIDATE_VIEWERS,
                act_roles=frozenset({EXAMINER, "investigator"}),
            ),
        )
        registry.periodic_jobs.register("dna.nightly_rescreen", jobs.nightly_rescreen)
        inbox.register()
        seed.register_steps()
        registry.menu_items.register(
            "dna_review", MenuItem(label=_("DNA比中研判"), url_name="dna:review", order=56, roles=examiner)
        )
        registry.menu_items.register(
            "dna_samples",
            MenuItem(label=_("DNA采样"), url_name="dna:samples", order=57, roles=SAMPLING_ROLES - examiner),
        )
        registry.menu_items.register(
            "dna_points",
            MenuItem(label=_("免费采血点"), url_name="dna:points", order=58, kinds=frozenset({"anonymous", "citizen"})),
        )
