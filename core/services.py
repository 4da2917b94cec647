"""Service helpers every app may use (HackSoft's `common/services.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction

from core.errors import InvalidInput

ModelT = TypeVar("ModelT", bound=models.Model)


def model_update(
    *, instance: ModelT, fields: Sequence[str], data: Mapping[str, Any]
) -> tuple[ModelT, bool]:
    """Set the allowed `fields` found in `data` on `instance`, validate it with
    `full_clean` and save what changed. Keys of `data` outside `fields` are ignored: the
    caller decides whether an unknown key is an error. Returns the instance and whether
    anything changed (nothing is written when nothing did).

    Many-to-many fields are not handled: no model updated this way has one.
    """
    model_fields = {field.name for field in instance._meta.get_fields()}
    update_fields: list[str] = []
    for name in fields:
        if name not in data:
            continue
        # A typo in an allow-list is the programmer's, not the user's.
        assert name in model_fields, f"{name} is not a field of {type(instance).__name__}"
        if getattr(instance, name) != data[name]:
            setattr(instance, name, data[name])
            update_fields.append(name)
    if not update_fields:
        return instance, False
    try:
        instance.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(
            " ".join(messages), field=None if field == NON_FIELD_ERRORS else field
        ) from error
    if "updated_at" in model_fields:
        # `auto_now` sets it on save, but only a field named in update_fields is written.
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    return instance, True


def row_claim(new: ModelT, **key: Any) -> tuple[ModelT, bool]:
    """The row with this key, locked for the rest of the transaction, or `new` inserted
    in its place: (row, created).

    Locking a row that does not exist yet locks nothing, so two requests for the same
    new key can both find none. The insert runs in a savepoint: the second one waits on
    the unique constraint until the first commits, fails, and then locks and returns the
    first one's row, for the caller to go on as an update.
    """
    model = type(new)
    existing = model._default_manager.select_for_update().filter(**key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            new.save(force_insert=True)
    except IntegrityError:
        existing = model._default_manager.select_for_update().filter(**key).first()
        if existing is None:  # another constraint failed, not a concurrent insert
            raise
        return existing, False
    return new, True
