/**
 * Strongly connected components of a directed graph on nodes 0..n-1 (Tarjan's algorithm, iterative so that a
 * deep nesting cannot overflow the stack). Components come out in reverse topological order: every component
 * reachable from a component is emitted before it, so a caller can fold children into parents in one pass.
 */
export function stronglyConnected(edges: ReadonlyArray<ReadonlyArray<number>>): number[][] {
  const n = edges.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  for (let start = 0; start < n; start++) {
    if (index[start] !== -1) continue;
    const work: Array<{ node: number; next: number }> = [{ node: start, next: 0 }];
    index[start] = low[start] = counter++;
    stack.push(start);
    onStack[start] = 1;
    while (work.length > 0) {
      const top = work[work.length - 1] as { node: number; next: number };
      const v = top.node;
      const out = edges[v] ?? [];
      if (top.next < out.length) {
        const w = out[top.next++] as number;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push({ node: w, next: 0 });
        } else if (onStack[w] === 1) {
          low[v] = Math.min(low[v] as number, index[w] as number);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent.node] = Math.min(low[parent.node] as number, low[v] as number);
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          component.push(w);
        } while (w !== v);
        components.push(component.sort((a, b) => a - b));
      }
    }
  }
  return components;
}

export interface Flattened {
  /** Per node, the direct members of it and of every node reachable from it. */
  readonly members: ReadonlyArray<ReadonlySet<number>>;
  /** Components that contain a cycle (several nodes, or one that contains itself), nodes ascending. */
  readonly cycles: ReadonlyArray<ReadonlyArray<number>>;
}

/**
 * Flattens nested groups: a group's members are its own plus those of every group it contains, however deep.
 * Groups on a cycle contain each other, so they all get the union of the cycle's members; the cycle is
 * reported rather than followed forever.
 */
export function flattenMembers(direct: ReadonlyArray<ReadonlySet<number>>, children: ReadonlyArray<ReadonlyArray<number>>): Flattened {
  const components = stronglyConnected(children);
  const componentOf = new Int32Array(direct.length);
  components.forEach((component, c) => {
    for (const node of component) componentOf[node] = c;
  });
  const componentMembers: Set<number>[] = [];
  const cycles: number[][] = [];
  components.forEach((component, c) => {
    const members = new Set<number>();
    for (const node of component) {
      for (const id of direct[node] ?? []) members.add(id);
      for (const child of children[node] ?? []) {
        const childComponent = componentOf[child] as number;
        if (childComponent === c) continue;
        for (const id of componentMembers[childComponent] ?? []) members.add(id);
      }
    }
    componentMembers[c] = members;
    const single = component[0] as number;
    if (component.length > 1 || (children[single] ?? []).includes(single)) cycles.push(component);
  });
  const members = direct.map((_, node) => componentMembers[componentOf[node] as number] ?? new Set<number>());
  return { members, cycles };
}
