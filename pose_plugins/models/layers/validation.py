"""Argument checks shared by the layers and backbones (errors name the owner, the argument and the value)."""

__all__ = ['check_count', 'is_count']


def is_count(value: object) -> bool:
    """A positive int (bools excluded)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_count(owner: str, **values: object) -> None:
    """Raise ``ValueError`` naming ``owner``, the argument and its value unless every value is a positive int.

    Example:
        >>> check_count('BasicBlock', planes=0)
        Traceback (most recent call last):
        ValueError: BasicBlock: planes must be a positive int, got 0
    """
    for name, value in values.items():
        if not is_count(value):
            raise ValueError(f'{owner}: {name} must be a positive int, got {value!r}')
