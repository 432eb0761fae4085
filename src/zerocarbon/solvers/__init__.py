"""Optimisers and models. They take core dataclasses in and give core dataclasses back."""
