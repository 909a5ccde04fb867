"""The list of every domain's routers, in one place so the app and the access tests agree."""

from __future__ import annotations

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    from ecoops.accounts import pages as account_pages
    from ecoops.attribution import influence_pages
    from ecoops.attribution import pages as attribution_pages
    from ecoops.automation import delivery_pages, rule_pages, slack_actions, slack_user_pages, task_pages
    from ecoops.automation.nurture import pages as nurture_pages
    from ecoops.commissions import fund_pages as commission_fund_pages
    from ecoops.commissions import pages as commission_pages
    from ecoops.crm import pages as crm_pages
    from ecoops.crm.hubspot import pages as hubspot_pages
    from ecoops.crm.imports import pages as import_pages
    from ecoops.crm.salesforce import pages as salesforce_pages
    from ecoops.crm.salesforce import writeback_pages as salesforce_writeback_pages
    from ecoops.demo import pages as demo_pages
    from ecoops.enablement import pages as enablement_pages
    from ecoops.enablement import plan_pages, playbook_pages
    from ecoops.enablement import portal_pages as portal_enablement_pages
    from ecoops.fit import pages as fit_pages
    from ecoops.goals import pages as goal_pages
    from ecoops.jobs import pages as job_pages
    from ecoops.mapping import pages as mapping_pages
    from ecoops.maturity import pages as maturity_pages
    from ecoops.metrics import pages as metrics_pages
    from ecoops.onboarding import application_pages, apply_pages, setup_pages
    from ecoops.onboarding import partner_pages as onboarding_partner_pages
    from ecoops.partners import pages as partner_pages
    from ecoops.partners import program_pages, tier_review_pages
    from ecoops.portal import commission_pages as portal_commission_pages
    from ecoops.portal import fund_pages as portal_fund_pages
    from ecoops.portal import pages as portal_pages
    from ecoops.portal import referral_pages as portal_referral_pages
    from ecoops.psi import pages as psi_pages
    from ecoops.referrals import cosell_pages
    from ecoops.referrals import link_pages as referral_link_pages
    from ecoops.referrals import pages as referral_pages
    from ecoops.referrals import routing_pages as referral_routing_pages
    from ecoops.reports import pages as report_pages
    from ecoops.roi import pages as roi_pages
    from ecoops.web import api_docs, audit_pages, auth_pages, home_pages, sso_pages

    return [
        auth_pages.router,
        sso_pages.router,
        home_pages.router,
        partner_pages.router,
        program_pages.router,
        tier_review_pages.router,
        apply_pages.router,
        application_pages.router,
        setup_pages.router,
        onboarding_partner_pages.router,
        crm_pages.router,
        import_pages.router,
        salesforce_pages.router,
        salesforce_writeback_pages.router,
        hubspot_pages.router,
        mapping_pages.router,
        psi_pages.router,
        job_pages.router,
        account_pages.router,
        audit_pages.router,
        referral_pages.router,
        referral_link_pages.router,
        cosell_pages.router,
        referral_routing_pages.router,
        metrics_pages.router,
        goal_pages.router,
        fit_pages.router,
        roi_pages.router,
        report_pages.router,
        maturity_pages.router,
        enablement_pages.router,
        playbook_pages.router,
        plan_pages.router,
        attribution_pages.router,
        influence_pages.router,
        nurture_pages.router,
        rule_pages.router,
        task_pages.router,
        slack_user_pages.router,
        slack_actions.router,
        delivery_pages.router,
        demo_pages.router,
        portal_pages.router,
        portal_referral_pages.router,
        portal_commission_pages.router,
        commission_pages.router,
        commission_fund_pages.router,
        portal_fund_pages.router,
        portal_enablement_pages.router,
        api_docs.router,
    ]


def api_routers() -> list[APIRouter]:
    from ecoops.accounts import api as account_api
    from ecoops.attribution import api as attribution_api
    from ecoops.attribution import influence_api, touch_api
    from ecoops.automation import rule_api
    from ecoops.crm import api as crm_api
    from ecoops.crm.imports import api as import_api
    from ecoops.enablement import api as enablement_api
    from ecoops.goals import api as goal_api
    from ecoops.mapping import api as mapping_api
    from ecoops.maturity import api as maturity_api
    from ecoops.metrics import api as metrics_api
    from ecoops.partners import api as partner_api
    from ecoops.partners import program_api, tier_review_api
    from ecoops.portal import api as portal_api
    from ecoops.referrals import api as referral_api
    from ecoops.web import audit_api

    return [
        account_api.router,
        partner_api.router,
        program_api.router,
        tier_review_api.router,
        crm_api.router,
        import_api.router,
        mapping_api.router,
        referral_api.router,
        portal_api.router,
        metrics_api.router,
        goal_api.router,
        maturity_api.router,
        enablement_api.router,
        attribution_api.router,
        influence_api.router,
        touch_api.router,
        rule_api.router,
        audit_api.router,
    ]


def peer_routers() -> list[APIRouter]:
    """Routes other ecoops servers call (/psi/v1): their own credentials, no session, no CSRF."""
    from ecoops.psi import endpoints as psi_endpoints

    return [psi_endpoints.router]


def ops_routers() -> list[APIRouter]:
    """Probes and metrics (docs/running.md "Operating"): no session, no request transaction."""
    from ecoops.ops import health, metrics

    return [health.router, metrics.router]
