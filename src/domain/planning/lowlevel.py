"""Low-level codes: the order in which items are netted, so each comes after all its parents.

An item's low-level code is the length of the longest BOM path from any top item down to
it, so an item used at several levels (and by several parents) gets the deepest one and is
netted once, after every parent has added its dependent demand. Items on a BOM cycle have
no such code; they are returned apart, and the edges leaving them are dropped so the items
below a cycle are still planned (without the cycle's demand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def low_level_codes(children: Mapping[int, Sequence[int]]) -> tuple[dict[int, int], list[list[int]]]:
    """Low-level code per item and the BOM cycles (each a list of item ids, strongly connected).

    ``children`` maps every item to the components it explodes into (empty for none);
    components must be keys too. Items in a cycle get no code.
    """
    codes = _kahn(children, excluded=frozenset())
    if len(codes) == len(children):
        return codes, []
    leftover = [item for item in children if item not in codes]
    cycles = _cycles(children, leftover)
    on_cycle = frozenset(item for cycle in cycles for item in cycle)
    return _kahn(children, on_cycle), cycles


def _kahn(children: Mapping[int, Sequence[int]], excluded: frozenset[int]) -> dict[int, int]:
    indegree = dict.fromkeys(children, 0)
    for item, components in children.items():
        if item in excluded:
            continue
        for component in components:
            indegree[component] += 1
    codes: dict[int, int] = {}
    ready = [item for item, degree in indegree.items() if degree == 0 and item not in excluded]
    for item in ready:
        codes[item] = 0
    while ready:
        item = ready.pop()
        below = codes[item] + 1
        for component in children[item]:
            if codes.get(component, -1) < below:
                codes[component] = below
            indegree[component] -= 1
            if indegree[component] == 0 and component not in excluded:
                ready.append(component)
    # a component seen from a parent but still waiting on a cycle has a partial code only
    return {item: code for item, code in codes.items() if indegree[item] == 0 and item not in excluded}


def _cycles(children: Mapping[int, Sequence[int]], nodes: Sequence[int]) -> list[list[int]]:
    """Tarjan's strongly connected components over ``nodes``, iteratively; keeps real cycles."""
    inside = frozenset(nodes)
    index: dict[int, int] = {}
    lowlink: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    cycles: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = lowlink[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = children[node]
            descended = False
            while position < len(successors):
                nxt = successors[position]
                position += 1
                if nxt not in inside:
                    continue
                if nxt not in index:
                    work.append((node, position))
                    work.append((nxt, 0))
                    descended = True
                    break
                if nxt in on_stack:
                    lowlink[node] = min(lowlink[node], index[nxt])
            if descended:
                continue
            if lowlink[node] == index[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in children[node]:
                    cycles.append(sorted(component))
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
    return sorted(cycles)
