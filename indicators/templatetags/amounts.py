from django import template

from indicators.formatting import format_amount

register = template.Library()


@register.filter
def amount(value, unit: str = ""):
    """{{ indicator.final_target|amount:indicator.unit }} → "1,200 张"."""
    return format_amount(value, unit)
