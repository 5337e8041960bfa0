"""Custom actions, served by the app over Rasa's action-server webhook protocol (no rasa_sdk needed)."""
