"""The connector SDK: everything a partner-agency connector may import, in one place.

A connector (``connectors/<agency>/``, or a plug-in installed from its own package) imports
``connectors.sdk`` and nothing of the service: ``from connectors.sdk import Subject, TransientError``.
The facade re-exports

- from the pure domain: the subject (``Subject``), the record protocol (``AssetRecord``) and the
  service's record kinds, the identifier checks and generators the simulators and their fake data
  use, and the domain errors those checks raise (``InvalidIdentifier``), and the masks for personal
  data (``mask_id_number``, ``mask_name``) should an error message have to refer to it;
- from the SDK's own modules: the connector protocol and spec, ``BaseConnector``, the manifest,
  the request/result types (queries and control operations), the simulators' control ledger,
  the connector errors, the HTTP helpers, the connection pool, request
  signing and the simulator kit.

The conformance suite stays a submodule (``connectors.sdk.conformance``, a test kit), as do the
service-side registry and simulator runner. ``__all__`` is sorted and complete;
``tests/unit/connectors/test_sdk_facade.py`` keeps it so, and checks that no connector imports
``enforcement`` directly.
"""

from __future__ import annotations

from connectors.sdk.base import BaseConnector
from connectors.sdk.control_kit import ControlLedger, Effect
from connectors.sdk.errors import AuthError, ConfigurationError, ConnectorError, RejectedError, TransientError
from connectors.sdk.http import WireResponse, agency_reason, fetch_json, parse_retry_after, require
from connectors.sdk.manifest import AgencyPolicy, BatchPolicy, BreakerPolicy, ControlPolicy, Manifest, RetryPolicy
from connectors.sdk.pool import RecentFirstConnector
from connectors.sdk.protocol import Connector, ConnectorFactory, ConnectorSpec, SimulatorFactory
from connectors.sdk.signing import HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign, signature, verify
from connectors.sdk.simulator_kit import (
    FAULT_REASONS,
    FAULTS,
    STATE_KEY,
    ErrorStyle,
    SimulatorConfig,
    SimulatorState,
    make_simulator_app,
    sample_latency,
    state_of,
    subject_rng,
)
from connectors.sdk.types import (
    AgencyRequest,
    AgencyResult,
    AnswerMode,
    BatchOutcome,
    CallbackAnswer,
    ConnectorConfig,
    ControlAnswers,
    ControlOp,
    ControlOutcome,
    ControlRequest,
    ControlResult,
    ControlStatus,
    ItemOutcome,
    Outcome,
    Pending,
    Rejected,
)
from connectors.sdk.wire_times import compact_date, compact_datetime, dashed_date, dashed_datetime
from enforcement.domain.assets import (
    RECORD_TYPES,
    AssetRecord,
    BankAccount,
    BorderCrossing,
    Employment,
    ExitRestriction,
    Freeze,
    HotelStay,
    Pension,
    SecuritiesHolding,
    TravelDocument,
    Vehicle,
)
from enforcement.domain.errors import DomainError, InvalidIdentifier, InvalidSubject
from enforcement.domain.identifiers import (
    CREDIT_CHARSET,
    make_bank_card,
    make_credit_code,
    make_resident_id,
    make_vin,
    normalize_bank_card,
    normalize_credit_code,
    normalize_plate,
    normalize_resident_id,
    normalize_vin,
    resident_id_birth_date,
    resident_id_gender,
)
from enforcement.domain.privacy import mask_id_number, mask_name
from enforcement.domain.subjects import Subject, SubjectKind

__all__ = [
    "CREDIT_CHARSET",
    "FAULTS",
    "FAULT_REASONS",
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "RECORD_TYPES",
    "STATE_KEY",
    "AgencyPolicy",
    "AgencyRequest",
    "AgencyResult",
    "AnswerMode",
    "AssetRecord",
    "AuthError",
    "BankAccount",
    "BaseConnector",
    "BatchOutcome",
    "BatchPolicy",
    "BorderCrossing",
    "BreakerPolicy",
    "CallbackAnswer",
    "ConfigurationError",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorFactory",
    "ConnectorSpec",
    "ControlAnswers",
    "ControlLedger",
    "ControlOp",
    "ControlOutcome",
    "ControlPolicy",
    "ControlRequest",
    "ControlResult",
    "ControlStatus",
    "DomainError",
    "Effect",
    "Employment",
    "ErrorStyle",
    "ExitRestriction",
    "Freeze",
    "HotelStay",
    "InvalidIdentifier",
    "InvalidSubject",
    "ItemOutcome",
    "Manifest",
    "Outcome",
    "Pending",
    "Pension",
    "RecentFirstConnector",
    "Rejected",
    "RejectedError",
    "RetryPolicy",
    "SecuritiesHolding",
    "SimulatorConfig",
    "SimulatorFactory",
    "SimulatorState",
    "Subject",
    "SubjectKind",
    "TransientError",
    "TravelDocument",
    "Vehicle",
    "WireResponse",
    "agency_reason",
    "compact_date",
    "compact_datetime",
    "dashed_date",
    "dashed_datetime",
    "fetch_json",
    "make_bank_card",
    "make_credit_code",
    "make_resident_id",
    "make_simulator_app",
    "make_vin",
    "mask_id_number",
    "mask_name",
    "normalize_bank_card",
    "normalize_credit_code",
    "normalize_plate",
    "normalize_resident_id",
    "normalize_vin",
    "parse_retry_after",
    "require",
    "resident_id_birth_date",
    "resident_id_gender",
    "sample_latency",
    "sign",
    "signature",
    "state_of",
    "subject_rng",
    "verify",
]
