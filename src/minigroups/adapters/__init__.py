"""Implementations of the ports, one subpackage per outside world."""
