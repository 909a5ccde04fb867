"""Both CRMs' real export headers are recognised without configuration; anything else says what was tried."""

import pytest

from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import (
    HUBSPOT,
    PARTNER_LIST,
    SALESFORCE_API,
    SALESFORCE_REPORT,
    ImportFileError,
    recognise,
)

# Header rows as the exports write them (Data Loader, report "Export details", HubSpot "Export").
EXPORTS = {
    "sf_api_accounts": (
        "Id,Name,Website,BillingCountry,Industry,Type,OwnerId,Owner.Name,ParentId,NumberOfEmployees,CreatedDate",
        SALESFORCE_API,
        Kind.ACCOUNTS,
        {"crm_id": "Id", "owner": "Owner.Name", "employees": "NumberOfEmployees"},
    ),
    "sf_api_opportunities": (
        "Id,AccountId,Name,StageName,Amount,CurrencyIsoCode,CloseDate,CreatedDate,IsClosed,IsWon,OwnerId,"
        "Type,LeadSource,Partner_Account__c,Probability,ForecastCategoryName",
        SALESFORCE_API,
        Kind.OPPORTUNITIES,
        {"stage": "StageName", "partner_source": "Partner_Account__c", "is_won": "IsWon"},
    ),
    "sf_api_opportunity_partner_standard": (
        "Id,AccountId,Name,StageName,CloseDate,PartnerAccountId",
        SALESFORCE_API,
        Kind.OPPORTUNITIES,
        {"partner_source": "PartnerAccountId"},
    ),
    "sf_api_opportunity_history": (
        "Id,OpportunityId,CreatedById,CreatedDate,StageName,Amount,ExpectedRevenue,CloseDate,Probability",
        SALESFORCE_API,
        Kind.STAGE_HISTORY,
        {"opportunity_crm_id": "OpportunityId", "stage": "StageName", "changed_on": "CreatedDate"},
    ),
    "sf_api_opportunity_field_history": (
        "Id,OpportunityId,CreatedById,CreatedDate,Field,DataType,OldValue,NewValue",
        SALESFORCE_API,
        Kind.STAGE_HISTORY,
        {"stage": "NewValue", "history_field": "Field"},
    ),
    "sf_api_contacts": (
        "Id,AccountId,FirstName,LastName,Name,Email,Title,Phone,MailingCountry",
        SALESFORCE_API,
        Kind.CONTACTS,
        {"email": "Email", "title": "Title"},
    ),
    "sf_report_accounts": (
        "Account Owner,Account Name,Type,Industry,Billing Country,Website,Employees,Created Date,Account ID",
        SALESFORCE_REPORT,
        Kind.ACCOUNTS,
        {"crm_id": "Account ID", "country": "Billing Country"},
    ),
    "sf_report_opportunities": (
        "Opportunity Owner,Account Name,Account ID,Opportunity Name,Opportunity ID,Stage,Fiscal Period,"
        "Amount,Probability (%),Age,Close Date,Created Date,Next Step,Lead Source,Type,Won,Closed",
        SALESFORCE_REPORT,
        Kind.OPPORTUNITIES,
        {"crm_id": "Opportunity ID", "stage": "Stage", "close_date": "Close Date", "is_won": "Won"},
    ),
    "sf_report_opportunity_history": (
        "Opportunity Name,Opportunity ID,From Stage,To Stage,Amount,Close Date,Edit Date,Last Modified By",
        SALESFORCE_REPORT,
        Kind.STAGE_HISTORY,
        {"stage": "To Stage", "changed_on": "Edit Date"},
    ),
    "sf_report_contacts": (
        "Contact Owner,First Name,Last Name,Title,Account Name,Email,Phone,Contact ID,Account ID",
        SALESFORCE_REPORT,
        Kind.CONTACTS,
        {"crm_id": "Contact ID", "account_crm_id": "Account ID"},
    ),
    "hubspot_companies": (
        "Record ID,Company name,Company owner,Create Date,Phone Number,Last Activity Date,City,"
        "Country/Region,Industry,Company Domain Name,Website URL,Number of Employees,Parent Company",
        HUBSPOT,
        Kind.ACCOUNTS,
        {"crm_id": "Record ID", "domain": "Company Domain Name", "country": "Country/Region"},
    ),
    "hubspot_deals": (
        "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Pipeline,Create Date,"
        "Associated Company IDs,Associated Company IDs (Primary),Is Closed Won,Is closed,Deal Type",
        HUBSPOT,
        Kind.OPPORTUNITIES,
        {"account_crm_id": "Associated Company IDs (Primary)", "is_closed": "Is closed"},
    ),
    "hubspot_contacts": (
        "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Job Title,Associated Company IDs",
        HUBSPOT,
        Kind.CONTACTS,
        {"title": "Job Title", "account_crm_id": "Associated Company IDs"},
    ),
    "partner_list": (
        "Partner Name,Partner Type,Program,Tier,Partner Manager,Stage,Website,Country",
        PARTNER_LIST,
        Kind.PARTNERS,
        {"name": "Partner Name", "owner": "Partner Manager", "tier": "Tier"},
    ),
}


@pytest.mark.parametrize("export", EXPORTS, ids=list(EXPORTS))
def test_real_export_headers_are_recognised(export):
    header, source_format, kind, some_columns = EXPORTS[export]
    mapping = recognise(header.split(","), "export.csv")
    assert (mapping.source_format, mapping.kind) == (source_format, kind)
    assert some_columns.items() <= mapping.columns.items()


def test_hubspot_date_entered_columns_read_as_stage_history_when_asked():
    headers = [
        "Record ID",
        "Deal Name",
        "Deal Stage",
        'Date entered "Appointment Scheduled (Sales Pipeline)"',
        'Date exited "Appointment Scheduled (Sales Pipeline)"',
        'Date entered "Closed Won (Sales Pipeline)"',
    ]
    assert recognise(headers, "deals.csv").kind == Kind.OPPORTUNITIES
    history = recognise(headers, "deals.csv", Kind.STAGE_HISTORY)
    assert history.stage_columns == {
        "Appointment Scheduled": headers[3],
        "Closed Won": headers[5],
    }


def test_headers_match_whatever_their_case_spacing_or_bom():
    mapping = recognise(["\ufeffRecord ID", "company  NAME", "Company Domain Name"], "c.csv")
    assert (mapping.kind, mapping.columns["crm_id"], mapping.columns["name"]) == (
        Kind.ACCOUNTS,
        "\ufeffRecord ID",
        "company  NAME",
    )


def test_unknown_columns_name_the_kinds_tried():
    with pytest.raises(ImportFileError) as error:
        recognise(["Customer No", "Customer", "Region"], "erp.csv")
    message = str(error.value)
    assert "erp.csv" in message and "Customer No" in message
    assert all(kind.value in message for kind in Kind)


def test_a_given_kind_with_missing_required_columns_names_them():
    with pytest.raises(ImportFileError, match=r"required fields of opportunities: stage \(e\.g\. StageName"):
        recognise(["Id", "Name", "Amount"], "opps.csv", Kind.OPPORTUNITIES)


def test_ignored_columns_are_listed_not_dropped_silently():
    mapping = recognise(["Id", "Name", "Website", "Rating", "SLA__c"], "accounts.csv")
    assert mapping.ignored == ["Rating", "SLA__c"]
