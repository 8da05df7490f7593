"""The benchmark report: console table and JSON file."""

import json
from pathlib import Path
from typing import List, Optional

COLUMNS = ('model', 'mode', 'img/s', 'vs R50-D8', 'peak GiB', 'TFLOP/s', '% bf16 mm')


def format_table(report: dict) -> str:
    """The results as a plain-text table, one row per model and mode."""
    rows = [COLUMNS] + [_row(result) for result in report['results']]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        '  '.join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        )
        for row in rows
    ]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def _row(result: dict) -> tuple:
    return (
        result['model'],
        result['mode'],
        f'{result["img_per_s"]:.1f}',
        f'{result["ratio_vs_reference"]:.2f}x',
        _optional(result['peak_gib'], '.2f'),
        f'{result["tflops"]:.2f}',
        f'{100 * result["matmul_fraction"]:.1f}',
    )


def _optional(value: Optional[float], spec: str) -> str:
    return '-' if value is None else format(value, spec)


def format_agreement(report: dict) -> List[str]:
    """One line per model comparing the variant's predictions with fp32 eager."""
    return [
        f'{entry["model"]}: {entry["variant"]} vs fp32 eager on a fixed input: '
        f'{100 * entry["pixel_agreement"]:.2f}% of pixels agree, max |logit diff| '
        f'{entry["max_abs_diff"]:.3g} ({100 * entry["relative_max_abs_diff"]:.2f}% of '
        'the logit range)'
        for entry in report['agreement']
    ]


def format_report(report: dict) -> str:
    """The table with a header (device, settings) and the prediction checks."""
    settings, env = report['settings'], report['environment']
    height, width = settings['shape']
    header = [
        f'{env["device_name"]} ({env["device"]}, {env["cpu_threads"]} CPU threads), '
        f'torch {env["torch"]}, {env["date"]}',
        f'batch {settings["batch"]}, {height}x{width}, {settings["num_classes"]} '
        f'classes, {settings["variant"]}, warmup {settings["warmup"]}, median of '
        f'{settings["rounds"]} round(s) x {settings["repeats"]} ({env["timer"]})',
        f'dense bf16 matmul rate: {report["matmul_bf16_tflops"]:.2f} TFLOP/s',
        f'FLOPs: {report["flops_method"]}',
        '',
    ]
    lines = header + [format_table(report)]
    agreement = format_agreement(report)
    if agreement:
        lines += [''] + agreement
    for model, modes in report.get('profile', {}).items():
        for mode, ops in modes.items():
            lines += ['', f'{model}, {mode}: costliest operators (ms per call, share)']
            lines += [
                f'  {op["ms_per_step"]:9.2f}  {100 * op["share"]:5.1f}%  {op["op"]}' for op in ops
            ]
    return '\n'.join(lines)


def write_json(report: dict, path: str) -> Path:
    """Write the report to ``path`` (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + '\n')
    return path
