"""Model scaling at equal cost: depth, width, input resolution, pre-head resolution and compound rules.

``plan_scaling(base, rules, multipliers, input_spec, cost)`` turns a base model into one variant
per (rule, cost multiplier), each the discrete setting whose flops, params or measured latency is
closest to the multiplier, with the achieved cost reported. ``archspace.experiments.scaling``
trains the variants as one Study and compares the rules at equal cost. Torch-free (latency is
measured through a function the caller passes).
"""

from archspace.scaling.rules import RuleOptions, candidates, minimum_resolution, supported_rules
from archspace.scaling.solve import ScalingPlan, plan_scaling
from archspace.scaling.variants import COST_KINDS, RULE_NAMES, Candidate, InputSpec, Variant

__all__ = ["COST_KINDS", "RULE_NAMES", "Candidate", "InputSpec", "RuleOptions", "ScalingPlan", "Variant",
           "candidates", "minimum_resolution", "plan_scaling", "supported_rules"]
