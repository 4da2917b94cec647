"""The standard objects an integration touches, with the fields and rules describe reports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TypedDict, Unpack

from .types import FieldInfo

STRING_TYPES = frozenset(
    {
        "string",
        "email",
        "phone",
        "url",
        "textarea",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: object = None
    custom: bool = False
    filterable: bool = True
    sortable: bool = True

    @property
    def display_label(self) -> str:
        """The label describe reports: the given one, or one made from the API name."""
        return self.label or _label(self.name)

    @property
    def required(self) -> bool:
        """Salesforce's rule: required on create when not nillable, createable and
        without a default value."""
        return (
            (not self.nillable)
            and self.createable
            and self.default is None
            and (self.type != "boolean")
        )

    def info(self) -> FieldInfo:
        return FieldInfo(
            name=self.name,
            type=self.type,
            reference_to=self.reference_to,
            relationship_name=self.relationship_name,
            filterable=self.filterable,
            sortable=self.sortable,
        )

    def describe(self) -> dict[str, object]:
        picklist_values = [
            {
                "active": True,
                "defaultValue": value == self.default,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in self.picklist
        ]
        byte_length = self.length * 3 if self.type in STRING_TYPES else 0
        return {
            "aggregatable": self.type not in ("textarea", "base64"),
            "autoNumber": False,
            "byteLength": byte_length if self.type != "id" else 18,
            "calculated": False,
            "caseSensitive": False,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": None if self.type == "picklist" else self.default,
            "defaultedOnCreate": self.default is not None or self.name in _SYSTEM_DEFAULTED,
            "dependentPicklist": False,
            "externalId": self.external_id,
            "filterable": self.filterable,
            "groupable": self.type not in ("textarea", "double", "currency", "base64"),
            "idLookup": self.name == "Id" or self.external_id,
            "label": self.display_label,
            "length": self.length if self.type in STRING_TYPES else 0,
            "name": self.name,
            "nameField": self.name in ("Name", "Title") and not self.createable,
            "nillable": self.nillable,
            "picklistValues": picklist_values,
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "precision": 18 if self.type == "currency" else 0,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": self.restricted,
            "scale": 2 if self.type == "currency" else 0,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.sortable,
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
        }


_SYSTEM_DEFAULTED = {
    "Id",
    "OwnerId",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "IsDeleted",
}

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "base64": "xsd:base64Binary",
}


@lru_cache(maxsize=4096)  # a pure function of a field's name, asked at every write
def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    out = ""
    for i, char in enumerate(base):
        if char.isupper() and i and base[i - 1].islower():
            out += " "
        out += char
    return out.replace("_", " ")


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # keyed by lower-cased name
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    custom: bool = False

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def copy(self) -> ObjectDef:
        return replace(self, fields=dict(self.fields))


class _FieldOptions(TypedDict, total=False):
    """The options the helpers below pass on to ``FieldDef``."""

    label: str
    nillable: bool
    createable: bool
    updateable: bool
    unique: bool
    external_id: bool
    restricted: bool
    default: object
    filterable: bool
    sortable: bool


def _s(name: str, length: int = 255, **kw: Unpack[_FieldOptions]) -> FieldDef:
    return FieldDef(name, "string", length=length, **kw)


def _ref(name: str, targets: tuple[str, ...], rel: str, **kw: Unpack[_FieldOptions]) -> FieldDef:
    return FieldDef(name, "reference", length=18, reference_to=targets, relationship_name=rel, **kw)


def _pick(name: str, values: tuple[str, ...], **kw: Unpack[_FieldOptions]) -> FieldDef:
    return FieldDef(name, "picklist", length=255, picklist=values, **kw)


class _DerivedOptions(TypedDict, total=False):
    """``_derived`` fields are never written by a client: no create/update options."""

    label: str
    nillable: bool
    default: object
    filterable: bool
    sortable: bool


def _derived(name: str, type_: str, length: int = 0, **kw: Unpack[_DerivedOptions]) -> FieldDef:
    return FieldDef(name, type_, length=length, createable=False, updateable=False, **kw)


def _system_fields(owned: bool) -> list[FieldDef]:
    fields = [
        FieldDef(
            "Id",
            "id",
            label="Record ID",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
        ),
        _derived("IsDeleted", "boolean", nillable=False, label="Deleted"),
        _derived("CreatedDate", "datetime", nillable=False),
        _ref(
            "CreatedById",
            ("User",),
            "CreatedBy",
            nillable=False,
            createable=False,
            updateable=False,
        ),
        _derived("LastModifiedDate", "datetime", nillable=False),
        _ref(
            "LastModifiedById",
            ("User",),
            "LastModifiedBy",
            nillable=False,
            createable=False,
            updateable=False,
        ),
        _derived("SystemModstamp", "datetime", nillable=False),
    ]
    if owned:
        # Not nillable, but defaulted to the calling user, so never "required".
        fields.append(_ref("OwnerId", ("User",), "Owner", nillable=False, default="$user"))
    return fields


def _obj(
    name: str,
    prefix: str,
    plural: str,
    fields: list[FieldDef],
    *,
    owned: bool = True,
    label: str | None = None,
    createable: bool = True,
) -> ObjectDef:
    obj = ObjectDef(name, prefix, label or _label(name), plural, createable=createable)
    for f in _system_fields(owned) + fields:
        obj.fields[f.name.lower()] = f
    return obj


WHO = ("Contact", "Lead")
WHAT = ("Account", "Opportunity")
ANY_PARENT = ("Account", "Contact", "Lead", "Opportunity", "Task", "Event", "User")

TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)


def standard_objects() -> dict[str, ObjectDef]:
    """A fresh copy of the standard objects (each org may add custom fields to its own)."""
    objects = [
        _obj(
            "User",
            "005",
            "Users",
            [
                _s("Username", 80, nillable=False, unique=True),
                FieldDef("Email", "email", length=128, nillable=False),
                _s("FirstName", 40),
                _s("LastName", 80, nillable=False),
                _derived("Name", "string", 121, label="Full Name"),
                FieldDef("IsActive", "boolean", nillable=False, default=True, label="Active"),
                _s("Alias", 8, nillable=False),
                _s("Title", 80),
            ],
            owned=False,
        ),
        _obj(
            "Account",
            "001",
            "Accounts",
            [
                _s("Name", 255, nillable=False, label="Account Name"),
                FieldDef("Website", "url", length=255),
                FieldDef("Phone", "phone", length=40, label="Account Phone"),
                FieldDef("Fax", "phone", length=40, label="Account Fax"),
                _pick("Industry", INDUSTRIES),
                FieldDef("Description", "textarea", length=32000),
            ],
        ),
        _obj(
            "Contact",
            "003",
            "Contacts",
            [
                _s("FirstName", 40),
                _s("LastName", 80, nillable=False),
                _derived("Name", "string", 121, label="Full Name"),
                FieldDef("Email", "email", length=80),
                FieldDef("Phone", "phone", length=40, label="Business Phone"),
                FieldDef("MobilePhone", "phone", length=40, label="Mobile Phone"),
                FieldDef("HomePhone", "phone", length=40, label="Home Phone"),
                FieldDef("OtherPhone", "phone", length=40, label="Other Phone"),
                FieldDef("AssistantPhone", "phone", length=40, label="Asst. Phone"),
                FieldDef("Fax", "phone", length=40, label="Business Fax"),
                _s("Title", 128),
                _ref("AccountId", ("Account",), "Account"),
                _pick("LeadSource", LEAD_SOURCES),
                FieldDef("Description", "textarea", length=32000),
            ],
        ),
        _obj(
            "Lead",
            "00Q",
            "Leads",
            [
                _s("FirstName", 40),
                _s("LastName", 80, nillable=False),
                _derived("Name", "string", 121, label="Full Name"),
                _s("Company", 255, nillable=False),
                FieldDef("Email", "email", length=80),
                FieldDef("Phone", "phone", length=40),
                FieldDef("MobilePhone", "phone", length=40, label="Mobile Phone"),
                FieldDef("Fax", "phone", length=40),
                _s("Title", 128),
                _pick(
                    "Status",
                    LEAD_STATUSES,
                    nillable=False,
                    default="Open - Not Contacted",
                    restricted=True,
                ),
                _pick("LeadSource", LEAD_SOURCES),
                _derived("IsConverted", "boolean", nillable=False, label="Converted"),
                _ref(
                    "ConvertedContactId",
                    ("Contact",),
                    "ConvertedContact",
                    createable=False,
                    updateable=False,
                ),
                _ref(
                    "ConvertedAccountId",
                    ("Account",),
                    "ConvertedAccount",
                    createable=False,
                    updateable=False,
                ),
                _ref(
                    "ConvertedOpportunityId",
                    ("Opportunity",),
                    "ConvertedOpportunity",
                    createable=False,
                    updateable=False,
                ),
                _derived("ConvertedDate", "date"),
                FieldDef("Description", "textarea", length=32000),
            ],
        ),
        _obj(
            "Opportunity",
            "006",
            "Opportunities",
            [
                _s("Name", 120, nillable=False),
                _pick("StageName", STAGES, nillable=False, restricted=True, label="Stage"),
                FieldDef("CloseDate", "date", nillable=False),
                _ref("AccountId", ("Account",), "Account"),
                FieldDef("Amount", "currency"),
                _pick("LeadSource", LEAD_SOURCES),
                _derived("IsClosed", "boolean", nillable=False, label="Closed"),
                _derived("IsWon", "boolean", nillable=False, label="Won"),
                FieldDef("Description", "textarea", length=32000),
            ],
        ),
        _obj(
            "OpportunityContactRole",
            "00K",
            "Opportunity Contact Roles",
            [
                _ref(
                    "OpportunityId",
                    ("Opportunity",),
                    "Opportunity",
                    nillable=False,
                    updateable=False,
                ),
                _ref("ContactId", ("Contact",), "Contact", nillable=False),
                _pick(
                    "Role",
                    (
                        "Business User",
                        "Decision Maker",
                        "Economic Buyer",
                        "Economic Decision Maker",
                        "Evaluator",
                        "Executive Sponsor",
                        "Influencer",
                        "Technical Buyer",
                        "Other",
                    ),
                ),
                FieldDef("IsPrimary", "boolean", nillable=False, default=False, label="Primary"),
            ],
            owned=False,
        ),
        _obj(
            "Task",
            "00T",
            "Tasks",
            [
                FieldDef(
                    "Subject",
                    "combobox",
                    length=255,
                    picklist=("Call", "Send Letter", "Send Quote", "Other"),
                ),
                _pick(
                    "Status", TASK_STATUSES, nillable=False, default="Not Started", restricted=True
                ),
                _pick(
                    "Priority",
                    ("High", "Normal", "Low"),
                    nillable=False,
                    default="Normal",
                    restricted=True,
                ),
                _derived("IsClosed", "boolean", nillable=False, label="Closed"),
                FieldDef("ActivityDate", "date", label="Due Date Only"),
                FieldDef("Description", "textarea", length=32000, label="Comments"),
                _ref("WhoId", WHO, "Who", label="Name ID"),
                _ref("WhatId", WHAT, "What", label="Related To ID"),
                _ref("AccountId", ("Account",), "Account", createable=False, updateable=False),
                _pick(
                    "TaskSubtype",
                    ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
                    updateable=False,
                    restricted=True,
                ),
                _pick("CallType", ("Internal", "Inbound", "Outbound"), restricted=True),
                FieldDef("CallDurationInSeconds", "int", label="Call Duration"),
                _s("CallDisposition", 255, label="Call Result"),
                _s("CallObject", 255, label="Call Object Identifier"),
            ],
            label="Task",
        ),
        _obj(
            "TaskRelation",
            "0RT",
            "Task Relations",
            [
                _ref("TaskId", ("Task",), "Task", nillable=False, updateable=False),
                _ref("RelationId", WHO + WHAT, "Relation", nillable=False, updateable=False),
                FieldDef("IsWhat", "boolean", nillable=False, default=False, updateable=False),
            ],
            owned=False,
        ),
        _obj(
            "Event",
            "00U",
            "Events",
            [
                FieldDef(
                    "Subject",
                    "combobox",
                    length=255,
                    picklist=("Call", "Email", "Meeting", "Send Letter/Quote", "Other"),
                ),
                FieldDef("StartDateTime", "datetime"),
                FieldDef("EndDateTime", "datetime"),
                FieldDef("ActivityDateTime", "datetime", label="Due Date Time"),
                FieldDef("ActivityDate", "date", label="Due Date Only"),
                FieldDef("DurationInMinutes", "int", label="Duration"),
                FieldDef(
                    "IsAllDayEvent", "boolean", nillable=False, default=False, label="All-Day Event"
                ),
                _ref("WhoId", WHO, "Who", label="Name ID"),
                _ref("WhatId", WHAT, "What", label="Related To ID"),
                _ref("AccountId", ("Account",), "Account", createable=False, updateable=False),
                FieldDef("Description", "textarea", length=32000),
                _s("Location", 255),
                _pick(
                    "ShowAs", ("Busy", "OutOfOffice", "Free"), default="Busy", label="Show Time As"
                ),
                _pick("EventSubtype", ("Event",), updateable=False, restricted=True),
            ],
        ),
        _obj(
            "EventRelation",
            "0RE",
            "Event Relations",
            [
                _ref("EventId", ("Event",), "Event", nillable=False, updateable=False),
                _ref(
                    "RelationId",
                    WHO + WHAT + ("User",),
                    "Relation",
                    nillable=False,
                    updateable=False,
                ),
                FieldDef("IsParent", "boolean", nillable=False, default=False),
                FieldDef("IsWhat", "boolean", nillable=False, default=False, updateable=False),
                FieldDef("IsInvitee", "boolean", nillable=False, default=False),
                _pick("Status", ("New", "Declined", "Accepted"), default="New"),
                FieldDef("RespondedDate", "datetime"),
                _s("Response", 255),
            ],
            owned=False,
        ),
        _obj(
            "ContentNote",
            "069",
            "Notes",
            [
                _s("Title", 255, nillable=False),
                FieldDef("Content", "base64"),
                _derived("TextPreview", "string", 255),
                _derived("FileType", "string", 20),
                _derived("FileExtension", "string", 40),
                _derived("ContentSize", "int"),
                _ref(
                    "LatestPublishedVersionId",
                    ("ContentVersion",),
                    "LatestPublishedVersion",
                    createable=False,
                    updateable=False,
                ),
                FieldDef(
                    "IsReadOnly",
                    "boolean",
                    nillable=False,
                    default=False,
                    createable=False,
                    updateable=False,
                ),
            ],
            label="Note",
        ),
        _obj(
            "ContentDocument",
            "069",
            "Files",
            [
                _s("Title", 255, nillable=False),
                _derived("FileType", "string", 20),
                _derived("FileExtension", "string", 40),
                _derived("ContentSize", "int"),
                FieldDef("Description", "textarea", length=1000),
            ],
            createable=False,
            label="File",
        ),
        _obj(
            "ContentDocumentLink",
            "06A",
            "Content Document Links",
            [
                _ref(
                    "ContentDocumentId",
                    ("ContentDocument",),
                    "ContentDocument",
                    nillable=False,
                    updateable=False,
                ),
                _ref(
                    "LinkedEntityId", ANY_PARENT, "LinkedEntity", nillable=False, updateable=False
                ),
                _pick("ShareType", ("V", "C", "I"), nillable=False, default="V", restricted=True),
                _pick(
                    "Visibility",
                    ("AllUsers", "InternalUsers", "SharedUsers"),
                    default="AllUsers",
                    restricted=True,
                ),
            ],
            owned=False,
        ),
        _obj(
            "Note",
            "002",
            "Notes",
            [
                _s("Title", 80, nillable=False),
                FieldDef("Body", "textarea", length=32000),
                _ref("ParentId", ANY_PARENT[:-1], "Parent", nillable=False, updateable=False),
                FieldDef("IsPrivate", "boolean", nillable=False, default=False, label="Private"),
            ],
        ),
    ]
    return {o.name: o for o in objects}


# Ids whose key prefix is shared (ContentNote and ContentDocument) resolve to the document.
PREFIX_OWNER = {o.key_prefix: o.name for o in reversed(list(standard_objects().values()))}
