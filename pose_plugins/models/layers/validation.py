"""Argument checks shared by the layers and backbones."""

__all__ = ['check_count', 'is_count']


def is_count(value: object) -> bool:
    """A positive int (bools excluded)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_count(owner: str, **values: object) -> None:
    """Raise ``ValueError`` naming ``owner``, the argument and its value unless each is a positive int."""
    for name, value in values.items():
        if not is_count(value):
            raise ValueError(f'{owner}: {name} must be a positive int, got {value!r}')
