from __future__ import annotations

from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wasla.common.listing import MOMENT_HELP, moment_parse
from wasla.common.money import CURRENCY_EXPONENTS, MoneyError, format_amount, is_exact
from wasla.ledger.models import FinancialLedgerEntry, LedgerTransaction
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, RefundRecord
from wasla.payments.providers.registry import provider_names
from wasla.settlement.models import SettlementRecord

MAX_AMOUNT = Decimal("9999999999.999")


class MoneyField(serializers.DecimalField):
    """Amounts travel as JSON strings ("100.00"); numbers are accepted on input (the API's
    parser reads a number with a fraction as a Decimal, never through a float)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float | Decimal):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[return-value]


class StrictCharField(serializers.CharField):
    """A string, and only a string: 12 or true are type errors, not "12" or "True"."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "example": "100.00"})
class AmountField(serializers.Field):
    """An amount rendered with exactly its currency's decimals: "100.00" SAR, "1.500" KWD."""

    def __init__(self, currency_attr: str = "currency", **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.currency_of = attrgetter(currency_attr)  # dotted: "invoice.currency" on a line

    def get_attribute(self, instance: Any) -> tuple[Any, str]:
        return super().get_attribute(instance), self.currency_of(instance)

    def to_representation(self, value: tuple[Decimal, str]) -> str:
        amount, currency = value
        return format_amount(amount, currency)


@extend_schema_field({"type": "string", "example": "2026-12-01"})
class MomentField(serializers.Field):
    """A query bound: ISO 8601 date (Riyadh midnight) or date-time (no offset: Riyadh time)."""

    default_error_messages = {"invalid": MOMENT_HELP}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return moment_parse(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return str(value.isoformat())


class ListFilterInput(serializers.Serializer):
    """The query parameters every list shares (`wasla.common.listing.ListFilters`); each list
    narrows `status` to its own vocabulary. `created_after` is inclusive, `created_before`
    exclusive."""

    status_choices: list[tuple[str, str]] = []

    status = serializers.ChoiceField(required=False, choices=[])
    provider = serializers.ChoiceField(required=False, choices=[])
    method = serializers.ChoiceField(required=False, choices=PaymentAttempt.Method.choices)
    created_after = MomentField(required=False, help_text="Created at or after. " + MOMENT_HELP)
    created_before = MomentField(required=False, help_text="Created before. " + MOMENT_HELP)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = self.status_choices  # type: ignore[attr-defined]
        # The registered providers (settings and plug-ins), read when the request comes.
        self.fields["provider"].choices = provider_names()  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after is not None and before is not None and not after < before:
            raise serializers.ValidationError(
                {"created_before": ["Must be later than created_after."]}
            )
        return attrs


class OrderReferenceFilter(serializers.Serializer):
    reference = StrictCharField(required=False, max_length=64, help_text="The order reference.")


class PaymentFilter(ListFilterInput, OrderReferenceFilter):
    status_choices = PaymentAttempt.Status.choices


class OrderFilter(ListFilterInput, OrderReferenceFilter):
    status_choices = Order.Status.choices
    provider = serializers.ChoiceField(
        required=False, choices=[], help_text="Orders with a payment attempt through it."
    )
    method = serializers.ChoiceField(
        required=False,
        choices=PaymentAttempt.Method.choices,
        help_text="Orders with a payment attempt by it.",
    )


class RefundFilter(ListFilterInput):
    status_choices = RefundRecord.Status.choices


class OrderInput(serializers.Serializer):
    reference = StrictCharField(
        max_length=64,
        validators=[RegexValidator(r"^[A-Za-z0-9._:-]+$", "Use letters, digits, . _ : -")],
    )
    amount = MoneyField(min_value=Decimal("0.001"), max_value=MAX_AMOUNT)
    currency = StrictCharField(default="SAR", max_length=3)
    customer_email = serializers.EmailField(required=False, allow_blank=True, default="")
    customer_phone = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20,
        validators=[RegexValidator(r"^\+?[0-9 ]{6,20}$", "Enter a phone number.")],
    )

    def validate_currency(self, value: str) -> str:
        if value not in settings.WASLA_CURRENCIES:
            raise serializers.ValidationError(
                f"Unsupported currency; accepted: {', '.join(settings.WASLA_CURRENCIES)}."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            exact = is_exact(attrs["amount"], attrs["currency"])
        except MoneyError as exc:
            raise serializers.ValidationError({"currency": str(exc)}) from None
        if not exact:
            raise serializers.ValidationError(
                {"amount": f"More decimals than {attrs['currency']} has."}
            )
        return attrs


class OrderOutput(serializers.ModelSerializer):
    amount = AmountField()

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "amount",
            "currency",
            "customer_email",
            "customer_phone",
            "status",
            "created_at",
            "paid_at",
        ]


class PaymentInput(serializers.Serializer):
    order = serializers.UUIDField()
    provider = StrictCharField(max_length=40)
    method = serializers.ChoiceField(choices=PaymentAttempt.Method.choices)
    return_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)


class PaymentOutput(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")
    amount = AmountField()
    refunded_amount = AmountField()

    class Meta:
        model = PaymentAttempt
        fields = [
            "id",
            "order",
            "provider",
            "method",
            "amount",
            "currency",
            "status",
            "redirect_url",
            "return_url",
            "provider_reference",
            "refunded_amount",
            "failure_code",
            "failure_message",
            "created_at",
            "updated_at",
            "paid_at",
        ]


class SettlementFilter(ListFilterInput):
    status_choices = SettlementRecord.Status.choices

    year = serializers.IntegerField(required=False, min_value=2000, max_value=2200)
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)


class SettlementOutput(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")
    payment_attempt = serializers.UUIDField(source="payment_attempt_id")
    gross_amount = AmountField()
    wasla_fee = AmountField()
    net_amount = AmountField()

    class Meta:
        model = SettlementRecord
        fields = [
            "id",
            "order",
            "payment_attempt",
            "currency",
            "gross_amount",
            "wasla_fee",
            "net_amount",
            "fee_breakdown",
            "status",
            "created_at",
            "updated_at",
        ]


class MonthlyReportFilter(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2200)
    month = serializers.IntegerField(min_value=1, max_value=12)
    currency = serializers.ChoiceField(required=False, default="SAR", choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = settings.WASLA_CURRENCIES  # type: ignore[attr-defined]


class MonthlyReportRecordOutput(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")
    order_reference = serializers.CharField(source="order.reference")
    payment_attempt = serializers.UUIDField(source="payment_attempt_id")
    gross_amount = AmountField()
    wasla_fee = AmountField()
    fee_adjustments = AmountField()
    effective_fee = AmountField()
    net_amount = AmountField()
    fee_plan = serializers.CharField(source="fee_breakdown.plan", default=None)
    fee_plan_version = serializers.IntegerField(source="fee_breakdown.plan_version", default=None)

    class Meta:
        model = SettlementRecord
        fields = [
            "id",
            "order",
            "order_reference",
            "payment_attempt",
            "payment_paid_at",
            "currency",
            "gross_amount",
            "wasla_fee",
            "fee_adjustments",
            "effective_fee",
            "net_amount",
            "status",
            "fee_plan",
            "fee_plan_version",
        ]


class MonthlyReportOutput(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    currency = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    total_operations = serializers.IntegerField()
    total_wasla_fee = AmountField(help_text="Σ effective fee of the month's records, excl. VAT.")
    records = MonthlyReportRecordOutput(many=True)


class LedgerEntryFilter(serializers.Serializer):
    entry_type = serializers.ChoiceField(
        required=False, choices=LedgerTransaction.EntryType.choices
    )
    account = StrictCharField(
        required=False,
        max_length=200,
        validators=[RegexValidator(r"^[A-Za-z0-9:-]+$", "A ledger account code.")],
    )
    currency = serializers.ChoiceField(required=False, choices=sorted(CURRENCY_EXPONENTS))
    reference_id = StrictCharField(required=False, max_length=100)


class LedgerEntryOutput(serializers.ModelSerializer):
    transaction = serializers.IntegerField(source="transaction_id")
    sequence = serializers.IntegerField(source="transaction.sequence")
    entry_type = serializers.CharField(source="transaction.entry_type")
    reference_id = serializers.CharField(source="transaction.reference_id")
    account = serializers.CharField(source="account.code")
    account_type = serializers.CharField(source="account.type")
    currency = serializers.CharField()
    debit = AmountField()
    credit = AmountField()
    balance_after = AmountField()
    created_at = serializers.DateTimeField(source="transaction.created_at")

    class Meta:
        model = FinancialLedgerEntry
        fields = [
            "id",
            "transaction",
            "sequence",
            "entry_type",
            "reference_id",
            "account",
            "account_type",
            "currency",
            "debit",
            "credit",
            "balance_after",
            "created_at",
        ]


class RefundInput(serializers.Serializer):
    amount = MoneyField(required=False, min_value=Decimal("0.001"), max_value=MAX_AMOUNT)
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=255)


class RefundOutput(serializers.ModelSerializer):
    payment = serializers.UUIDField(source="payment_attempt_id")
    amount = AmountField()

    class Meta:
        model = RefundRecord
        fields = [
            "id",
            "payment",
            "amount",
            "currency",
            "reason",
            "status",
            "source",
            "provider_reference",
            "failure_message",
            "created_at",
            "updated_at",
        ]


class GatewayInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=PaymentGatewayConfig.Mode.choices)
    public_key = StrictCharField(required=False, allow_blank=True, default="", max_length=255)
    secret_key = StrictCharField(required=False, allow_blank=True, default="", max_length=500)
    webhook_secret = StrictCharField(required=False, allow_blank=True, default="", max_length=500)
    is_active = serializers.BooleanField(required=False, default=True)


class GatewayOutput(serializers.ModelSerializer):
    """Secrets are write-only: only whether one is set, and its last four characters."""

    secret_key = serializers.SerializerMethodField()
    webhook_secret = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()

    class Meta:
        model = PaymentGatewayConfig
        fields = [
            "provider",
            "mode",
            "public_key",
            "secret_key",
            "webhook_secret",
            "webhook_url",
            "is_active",
            "created_at",
        ]

    def get_secret_key(self, config: PaymentGatewayConfig) -> str:
        return _mask(config.secret_key)

    def get_webhook_secret(self, config: PaymentGatewayConfig) -> str:
        return _mask(config.webhook_secret)

    def get_webhook_url(self, config: PaymentGatewayConfig) -> str:
        from wasla.payments.orchestrator import webhook_url

        return webhook_url(config)


def _mask(secret: str) -> str:
    return f"••••{secret[-4:]}" if len(secret) >= 12 else ("••••" if secret else "")
