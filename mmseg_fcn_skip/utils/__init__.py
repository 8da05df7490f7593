"""Helpers for the training and testing tools."""
from .amp import CPUAmpOptimWrapper, enable_amp
from .launch import prepare_cpu_distributed

__all__ = ['CPUAmpOptimWrapper', 'enable_amp', 'prepare_cpu_distributed']
