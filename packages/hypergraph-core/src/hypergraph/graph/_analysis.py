"""Pure graph algorithms over node indices: SCCs, reachability, first-pass order.

Nothing here knows about node types; callers pass adjacency lists. Kept iterative so 2,000-node
graphs never hit the recursion limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["reach", "strongly_connected_components", "topological_components"]


def strongly_connected_components(n: int, succ: Sequence[Iterable[int]]) -> list[list[int]]:
    """Tarjan's algorithm; returns components (each sorted) in reverse topological order."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    succ_lists = [list(s) for s in succ]
    for root in range(n):
        if index[root] != -1:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, i = work[-1]
            edges = succ_lists[v]
            if i < len(edges):
                work[-1] = (v, i + 1)
                w = edges[i]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component.append(w)
                    if w == v:
                        break
                components.append(sorted(component))
    return components


def topological_components(n: int, succ: Sequence[Iterable[int]]) -> list[list[int]]:
    """SCCs in topological order, ties broken by the smallest node index (SPEC X3)."""
    import heapq

    components = strongly_connected_components(n, succ)
    comp_of = [0] * n
    for ci, comp in enumerate(components):
        for v in comp:
            comp_of[v] = ci
    indegree = [0] * len(components)
    comp_succ: list[set[int]] = [set() for _ in components]
    for v in range(n):
        for w in succ[v]:
            a, b = comp_of[v], comp_of[w]
            if a != b and b not in comp_succ[a]:
                comp_succ[a].add(b)
                indegree[b] += 1
    heap = [(components[c][0], c) for c in range(len(components)) if indegree[c] == 0]
    heapq.heapify(heap)
    ordered: list[list[int]] = []
    while heap:
        _, c = heapq.heappop(heap)
        ordered.append(components[c])
        for d in comp_succ[c]:
            indegree[d] -= 1
            if indegree[d] == 0:
                heapq.heappush(heap, (components[d][0], d))
    return ordered


def reach(starts: Iterable[int], succ: Sequence[Iterable[int]], blocked: int | None = None) -> set[int]:
    """Every index reachable from ``starts`` (included), never passing through ``blocked``."""
    seen: set[int] = set()
    todo = [s for s in starts if s != blocked]
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        todo.extend(w for w in succ[v] if w not in seen and w != blocked)
    return seen
