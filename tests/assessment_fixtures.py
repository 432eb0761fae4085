"""A small index system for the assessment tests: every rule kind, a gate on a manual metric, two grades, a
workshop boundary; 100 points."""

MINI_SYSTEM = """
id: mini_factory
version: "1"
name: {en: Mini factory system, zh: 小型工厂指标体系}
description: {en: Test system, zh: 测试体系}
sources:
  - {id: P, title: test proposal, takes: everything}
boundaries: [site, workshop]
gates:
  - id: G1
    name: {en: Compliance, zh: 合规}
    metric: manual.compliance_3y
    op: "=="
    value: 1
    status: proposed
    basis: [P]
dimensions:
  - id: performance
    name: {en: Performance, zh: 绩效}
    indicators:
      - id: re_share
        name: {en: Renewable electricity share, zh: 可再生电力占比}
        metric: energy.renewable_electricity_share
        unit: fraction
        rule: {kind: linear, direction: higher, baseline: 0.0, leading: 0.5}
        points: 40
        status: proposed
        basis: [P]
        measures: [rooftop_pv, green_certificates]
        boundaries: [site, workshop]
      - id: kwh_unit
        name: {en: Electricity per unit, zh: 单位产品电耗}
        metric: energy.kwh_per_unit
        unit: kWh/unit
        rule: {kind: linear, direction: lower, baseline: 10.0, leading: 2.0}
        points: 30
        status: proposed
        basis: [P]
        measures: [energy_aware_scheduling]
        boundaries: [site, workshop]
  - id: management
    name: {en: Management, zh: 管理}
    indicators:
      - id: plan
        name: {en: Plan items, zh: 方案要素}
        metric: manual.plan_items
        unit: count
        rule:
          kind: checklist
          items:
            - {en: baseline, zh: 基准}
            - {en: targets, zh: 目标}
        points: 30
        status: proposed
        basis: [P]
        measures: [energy_management_system]
        boundaries: [site, workshop]
grades:
  - id: bronze
    name: {en: Bronze, zh: 铜级}
    min_score: 30
    requires: []
  - id: gold
    name: {en: Gold, zh: 金级}
    min_score: 90
    requires:
      - {ref: energy.renewable_electricity_share, op: ">=", value: 0.5}
"""
