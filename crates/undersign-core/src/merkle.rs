//! The registry Merkle tree (`SPEC.md` §Registry tree).
//!
//! A binary tree of fixed depth `D` over member leaves, filled left to right. Node =
//! `Poseidon(left, right)`; an empty or removed leaf is 0 and empty subtrees hash up from 0.
//! Every level is stored, so a path costs no hashing and a bulk build hashes each node once.

use crate::poseidon;
use ark_bn254::Fr;
use ark_ff::Zero;
use thiserror::Error;

/// Smallest supported depth (tests); real registries use 16 to 32.
pub const MIN_DEPTH: u32 = 4;
/// Largest supported depth.
pub const MAX_DEPTH: u32 = 32;
/// The default depth: room for 2^20 (about a million) members.
pub const DEFAULT_DEPTH: u32 = 20;

/// Errors from building or querying a tree.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// The depth is outside `MIN_DEPTH..=MAX_DEPTH`.
    #[error("tree depth {0} is not supported (must be {MIN_DEPTH} to {MAX_DEPTH})")]
    BadDepth(u32),
    /// The tree already holds `2^depth` leaves.
    #[error("the tree is full ({capacity} leaves at depth {depth})")]
    Full {
        /// The tree depth.
        depth: u32,
        /// `2^depth`.
        capacity: u64,
    },
    /// A leaf index at or past the number of leaves.
    #[error("leaf index {index} is out of range (the tree has {len} leaves)")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The number of leaves.
        len: u64,
    },
}

/// A Merkle path: the sibling of each node from the leaf up, and the leaf's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerklePath {
    /// The leaf index; bit `h` says whether the node at height `h` is a right child.
    pub index: u64,
    /// `siblings[h]` is the sibling at height `h` (0 = leaf level).
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// The root this path gives for `leaf`.
    pub fn compute_root(&self, leaf: Fr) -> Fr {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |node, (h, sibling)| {
                if (self.index >> h) & 1 == 1 {
                    poseidon::hash2(*sibling, node)
                } else {
                    poseidon::hash2(node, *sibling)
                }
            })
    }
}

/// `zeros[h]` is the root of an empty subtree of height `h`.
pub fn empty_roots(depth: u32) -> Vec<Fr> {
    let mut zeros = Vec::with_capacity(depth as usize + 1);
    zeros.push(Fr::zero());
    for h in 0..depth as usize {
        zeros.push(poseidon::hash2(zeros[h], zeros[h]));
    }
    zeros
}

/// An append-only-by-position Merkle tree with every level stored.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    depth: u32,
    /// `levels[h]` holds the nodes at height `h` that cover at least one leaf.
    levels: Vec<Vec<Fr>>,
    zeros: Vec<Fr>,
}

impl MerkleTree {
    /// An empty tree of the given depth.
    pub fn new(depth: u32) -> Result<Self, TreeError> {
        Self::from_leaves(depth, Vec::new())
    }

    /// Builds a tree from its leaves in one pass per level, in parallel.
    pub fn from_leaves(depth: u32, leaves: Vec<Fr>) -> Result<Self, TreeError> {
        if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
            return Err(TreeError::BadDepth(depth));
        }
        let capacity = 1u64 << depth;
        if leaves.len() as u64 > capacity {
            return Err(TreeError::Full { depth, capacity });
        }
        let zeros = empty_roots(depth);
        let mut levels = Vec::with_capacity(depth as usize + 1);
        levels.push(leaves);
        for h in 0..depth as usize {
            let next = hash_level(&levels[h], zeros[h]);
            levels.push(next);
        }
        Ok(Self {
            depth,
            levels,
            zeros,
        })
    }

    /// The tree depth `D`.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The number of leaf positions used (removed leaves still count).
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether no leaf was ever added.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// All leaves, in index order.
    pub fn leaves(&self) -> &[Fr] {
        &self.levels[0]
    }

    /// The current root.
    pub fn root(&self) -> Fr {
        self.node(self.depth as usize, 0)
    }

    /// Appends a leaf and returns its index. Costs `D` hashes.
    pub fn push(&mut self, leaf: Fr) -> Result<u64, TreeError> {
        let index = self.len();
        if index >= 1u64 << self.depth {
            return Err(TreeError::Full {
                depth: self.depth,
                capacity: 1u64 << self.depth,
            });
        }
        self.levels[0].push(leaf);
        self.rehash_path(index);
        Ok(index)
    }

    /// Replaces the leaf at `index`. Costs `D` hashes.
    pub fn set(&mut self, index: u64, leaf: Fr) -> Result<(), TreeError> {
        self.check_index(index)?;
        self.levels[0][index as usize] = leaf;
        self.rehash_path(index);
        Ok(())
    }

    /// Removes a member: its leaf becomes 0 and its position is never reused.
    pub fn remove(&mut self, index: u64) -> Result<(), TreeError> {
        self.set(index, Fr::zero())
    }

    /// The Merkle path of the leaf at `index`.
    pub fn path(&self, index: u64) -> Result<MerklePath, TreeError> {
        self.check_index(index)?;
        let siblings = (0..self.depth as usize)
            .map(|h| self.node(h, ((index >> h) ^ 1) as usize))
            .collect();
        Ok(MerklePath { index, siblings })
    }

    /// The root of the tree holding only the first `size` leaves (as they are now), as it was
    /// when the registry had `size` members. Costs at most `D` hashes.
    pub fn root_at(&self, size: u64) -> Result<Fr, TreeError> {
        if size > self.len() {
            return Err(TreeError::IndexOutOfRange {
                index: size,
                len: self.len(),
            });
        }
        Ok(self.prefix_node(self.depth as usize, 0, size))
    }

    fn prefix_node(&self, height: usize, index: u64, size: u64) -> Fr {
        let first = index << height;
        let end = (index + 1) << height;
        if end <= size {
            self.node(height, index as usize)
        } else if first >= size {
            self.zeros[height]
        } else {
            poseidon::hash2(
                self.prefix_node(height - 1, 2 * index, size),
                self.prefix_node(height - 1, 2 * index + 1, size),
            )
        }
    }

    fn node(&self, height: usize, index: usize) -> Fr {
        self.levels[height]
            .get(index)
            .copied()
            .unwrap_or(self.zeros[height])
    }

    fn check_index(&self, index: u64) -> Result<(), TreeError> {
        if index < self.len() {
            Ok(())
        } else {
            Err(TreeError::IndexOutOfRange {
                index,
                len: self.len(),
            })
        }
    }

    fn rehash_path(&mut self, index: u64) {
        for h in 0..self.depth as usize {
            let parent = (index >> (h + 1)) as usize;
            let value = poseidon::hash2(self.node(h, 2 * parent), self.node(h, 2 * parent + 1));
            let level = &mut self.levels[h + 1];
            if parent == level.len() {
                level.push(value);
            } else {
                level[parent] = value;
            }
        }
    }
}

/// Hashes one level into the next, pairing a trailing odd node with the empty subtree.
fn hash_level(children: &[Fr], zero: Fr) -> Vec<Fr> {
    let (pairs, odd) = children.as_chunks::<2>();
    let mut next = poseidon::hash2_batch(pairs);
    if let [last] = odd {
        next.push(poseidon::hash2(*last, zero));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The definition, evaluated over all 2^D positions.
    fn naive_root(depth: u32, leaves: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = (0..1usize << depth)
            .map(|i| leaves.get(i).copied().unwrap_or(Fr::zero()))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|c| poseidon::hash2(c[0], c[1]))
                .collect();
        }
        level[0]
    }

    fn random_leaves(rng: &mut ChaCha20Rng, n: usize) -> Vec<Fr> {
        (0..n)
            .map(|_| Fr::from(rng.gen::<u64>()) + Fr::from(1u64))
            .collect()
    }

    #[test]
    fn roots_match_the_naive_definition() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for n in [0usize, 1, 2, 3, 5, 8, 13, 16] {
            let leaves = random_leaves(&mut rng, n);
            let tree = MerkleTree::from_leaves(4, leaves.clone()).unwrap();
            assert_eq!(tree.root(), naive_root(4, &leaves), "n = {n}");
        }
        assert_eq!(MerkleTree::new(6).unwrap().root(), empty_roots(6)[6]);
    }

    #[test]
    fn push_matches_bulk_build() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let leaves = random_leaves(&mut rng, 2000);
        let bulk = MerkleTree::from_leaves(12, leaves.clone()).unwrap();
        let mut incremental = MerkleTree::new(12).unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(incremental.push(*leaf).unwrap(), i as u64);
        }
        assert_eq!(bulk.root(), incremental.root());
        assert_eq!(bulk.levels, incremental.levels);
    }

    #[test]
    fn paths_verify_and_bind_the_leaf() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let leaves = random_leaves(&mut rng, 11);
        let tree = MerkleTree::from_leaves(5, leaves.clone()).unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            let path = tree.path(i as u64).unwrap();
            assert_eq!(path.siblings.len(), 5);
            assert_eq!(path.compute_root(*leaf), tree.root());
            assert_ne!(path.compute_root(*leaf + Fr::from(1u64)), tree.root());
            let mut moved = path.clone();
            moved.index ^= 1;
            assert_ne!(moved.compute_root(*leaf), tree.root());
        }
        assert_eq!(
            tree.path(11),
            Err(TreeError::IndexOutOfRange { index: 11, len: 11 })
        );
    }

    #[test]
    fn removal_zeroes_the_leaf() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut leaves = random_leaves(&mut rng, 9);
        let mut tree = MerkleTree::from_leaves(4, leaves.clone()).unwrap();
        let before = tree.root();
        tree.remove(3).unwrap();
        leaves[3] = Fr::zero();
        assert_ne!(tree.root(), before);
        assert_eq!(tree.root(), naive_root(4, &leaves));
        assert_eq!(tree.len(), 9, "a removed position is never reused");
        // The removed leaf's old value no longer reaches the root along its path.
        let path = tree.path(3).unwrap();
        assert_eq!(path.compute_root(Fr::zero()), tree.root());
    }

    #[test]
    fn past_roots_are_prefix_roots() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let leaves = random_leaves(&mut rng, 23);
        let tree = MerkleTree::from_leaves(5, leaves.clone()).unwrap();
        let mut growing = MerkleTree::new(5).unwrap();
        assert_eq!(tree.root_at(0).unwrap(), growing.root());
        for (k, leaf) in leaves.iter().enumerate() {
            growing.push(*leaf).unwrap();
            assert_eq!(
                tree.root_at(k as u64 + 1).unwrap(),
                growing.root(),
                "size {}",
                k + 1
            );
        }
        assert!(tree.root_at(24).is_err());
    }

    #[test]
    fn capacity_and_depth_limits() {
        assert_eq!(MerkleTree::new(3).unwrap_err(), TreeError::BadDepth(3));
        assert_eq!(MerkleTree::new(33).unwrap_err(), TreeError::BadDepth(33));
        let mut tree = MerkleTree::from_leaves(4, vec![Fr::from(1u64); 16]).unwrap();
        assert!(matches!(
            tree.push(Fr::from(1u64)),
            Err(TreeError::Full { .. })
        ));
        assert!(MerkleTree::from_leaves(4, vec![Fr::from(1u64); 17]).is_err());
        assert!(tree.set(16, Fr::from(2u64)).is_err());
    }

    #[test]
    fn large_parallel_build_matches_incremental_root() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let leaves = random_leaves(&mut rng, 5000);
        let bulk = MerkleTree::from_leaves(16, leaves.clone()).unwrap();
        let mut tree = MerkleTree::from_leaves(16, leaves[..4000].to_vec()).unwrap();
        for leaf in &leaves[4000..] {
            tree.push(*leaf).unwrap();
        }
        assert_eq!(bulk.root(), tree.root());
        assert_eq!(
            bulk.root_at(4000).unwrap(),
            MerkleTree::from_leaves(16, leaves[..4000].to_vec())
                .unwrap()
                .root()
        );
    }
}
