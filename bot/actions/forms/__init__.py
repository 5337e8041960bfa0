"""Form back ends: progress query, appointment booking / cancel / reschedule, complaints and suggestions.

Each form's validation action judges every message while the form is open (bot/actions/forms/common.py);
the completing actions check everything again when they act (the booking layer re-validates day, slot,
name, phone, owner and phone tail), never trusting the slots."""
from bot.actions.forms import appointment, booking_changes, complaint, progress, scheduling  # noqa: F401
