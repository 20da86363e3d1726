"""The inspection minutes (biên bản kiểm tra) as PDF: plain data in, bytes out."""
from .data import LEADER_FIELD, MinutesData, unit_field
from .minutes import render_minutes

__all__ = ["LEADER_FIELD", "MinutesData", "render_minutes", "unit_field"]
