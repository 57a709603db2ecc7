//! Parts of a graph for mini-batch stage 2 (Cluster-GCN, Chiang et al. 2019): breadth-first
//! balls of a fixed size, so that a part keeps most of its nodes' edges —
//! on a k-NN graph neighbours are near each other — and a batch of a few random parts is a
//! subgraph whose GCN output is close to the full graph's for its nodes.
use super::Neighbours;
use std::collections::VecDeque;

/// Every node in exactly one part; parts hold `size` nodes (the last may hold fewer). Each
/// part is a breadth-first ball grown from the lowest unassigned node through unassigned
/// nodes (a ball, not a layer of one big search: layers of a search cut most edges); a ball
/// that runs out of reachable nodes continues from the next unassigned one.
pub fn bfs_parts(graph: &Neighbours, size: usize) -> Vec<Vec<u32>> {
    let n = graph.len();
    let size = size.max(1);
    let mut assigned = vec![false; n];
    let mut parts = Vec::with_capacity(n.div_ceil(size));
    let mut part = Vec::with_capacity(size);
    let mut queue = VecDeque::new();
    let mut next_seed = 0;
    loop {
        let i = match queue.pop_front() {
            Some(i) if assigned[i] => continue,
            Some(i) => i,
            None => {
                while next_seed < n && assigned[next_seed] {
                    next_seed += 1;
                }
                if next_seed == n {
                    break;
                }
                next_seed
            }
        };
        assigned[i] = true;
        part.push(i as u32);
        if part.len() == size {
            parts.push(std::mem::replace(&mut part, Vec::with_capacity(size)));
            // The next part is a new ball.
            queue.clear();
            continue;
        }
        queue.extend(
            graph
                .of(i)
                .iter()
                .map(|&j| j as usize)
                .filter(|&j| !assigned[j]),
        );
    }
    if !part.is_empty() {
        parts.push(part);
    }
    parts
}

/// The share of the graph's edges whose two ends are in the same part (1 = no edge is cut).
pub fn kept_edges(graph: &Neighbours, parts: &[Vec<u32>]) -> f64 {
    let mut part_of = vec![0u32; graph.len()];
    for (p, nodes) in parts.iter().enumerate() {
        for &i in nodes {
            part_of[i as usize] = p as u32;
        }
    }
    let (mut kept, mut all) = (0usize, 0usize);
    for i in 0..graph.len() {
        for &j in graph.of(i) {
            all += 1;
            kept += usize::from(part_of[i] == part_of[j as usize]);
        }
    }
    if all == 0 {
        1.0
    } else {
        kept as f64 / all as f64
    }
}
