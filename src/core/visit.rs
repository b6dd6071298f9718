//! The stage of a visit, from the whole visit (not only the last 16 events): browsing (nothing
//! carted yet), cart (something carted and not removed), cart emptied (everything carted was
//! removed again), purchased. The churn flag compares P(a purchase later in this visit) with
//! the stage's threshold; a visit that purchased is never flagged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::event::{Event, EventKind};

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Browsing,
    Cart,
    CartEmptied,
    Purchased,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Browsing,
        Stage::Cart,
        Stage::CartEmptied,
        Stage::Purchased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Browsing => "browsing",
            Stage::Cart => "cart",
            Stage::CartEmptied => "cart_emptied",
            Stage::Purchased => "purchased",
        }
    }

    /// Parses [`Stage::as_str`] names.
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Why the visit is at this stage, in words (for the demo's business view).
    pub fn explain(self) -> &'static str {
        match self {
            Stage::Browsing => "nothing carted yet",
            Stage::Cart => "something is in the cart",
            Stage::CartEmptied => "everything carted was removed again",
            Stage::Purchased => "already bought in this visit",
        }
    }
}

/// Most distinct products a visit tracks in its cart (a visit carting more is still a cart).
pub const MAX_CART_PRODUCTS: usize = 1024;

/// What the stage needs of a whole visit: the products in the cart (carted minus removed) and
/// whether anything was carted or bought. Small and serialisable, so a page can keep it with
/// the history across navigations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitState {
    /// Product id → units in the cart.
    pub in_cart: BTreeMap<u64, u32>,
    pub carted_ever: bool,
    pub purchased: bool,
}

impl VisitState {
    /// The state after all of `events`.
    pub fn of(events: &[Event]) -> Self {
        let mut v = VisitState::default();
        for e in events {
            v.observe(e);
        }
        v
    }

    /// Updates the state with one more event.
    pub fn observe(&mut self, e: &Event) {
        match e.kind {
            EventKind::View => {}
            EventKind::Cart => {
                self.carted_ever = true;
                if self.in_cart.len() < MAX_CART_PRODUCTS
                    || self.in_cart.contains_key(&e.product_id)
                {
                    *self.in_cart.entry(e.product_id).or_default() += 1;
                }
            }
            EventKind::RemoveFromCart => {
                if let Some(n) = self.in_cart.get_mut(&e.product_id) {
                    *n -= 1;
                    if *n == 0 {
                        self.in_cart.remove(&e.product_id);
                    }
                }
            }
            EventKind::Purchase => {
                self.purchased = true;
                self.in_cart.remove(&e.product_id);
            }
        }
    }

    pub fn stage(&self) -> Stage {
        if self.purchased {
            Stage::Purchased
        } else if !self.in_cart.is_empty() {
            Stage::Cart
        } else if self.carted_ever {
            Stage::CartEmptied
        } else {
            Stage::Browsing
        }
    }
}

/// Churn thresholds on P(a purchase later in this visit), one per stage that can be flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StageThresholds {
    pub browsing: f32,
    pub cart: f32,
    pub cart_emptied: f32,
}

impl StageThresholds {
    /// The same threshold for every stage (a page's `threshold` attribute).
    pub fn uniform(t: f32) -> Self {
        StageThresholds {
            browsing: t,
            cart: t,
            cart_emptied: t,
        }
    }

    /// The threshold of `stage`; `None` for a visit that purchased (never flagged).
    pub fn of(&self, stage: Stage) -> Option<f32> {
        match stage {
            Stage::Browsing => Some(self.browsing),
            Stage::Cart => Some(self.cart),
            Stage::CartEmptied => Some(self.cart_emptied),
            Stage::Purchased => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, product: u64) -> Event {
        Event {
            time_ms: 1_575_000_000_000,
            kind,
            product_id: product,
            brand: None,
            price: 1.0,
            category_code: None,
        }
    }

    #[test]
    fn stages_follow_the_whole_visit() {
        use EventKind::*;
        let mut v = VisitState::default();
        assert_eq!(v.stage(), Stage::Browsing);
        v.observe(&ev(View, 1));
        assert_eq!(v.stage(), Stage::Browsing);
        v.observe(&ev(Cart, 1));
        v.observe(&ev(Cart, 2));
        assert_eq!(v.stage(), Stage::Cart);
        v.observe(&ev(RemoveFromCart, 1));
        assert_eq!(v.stage(), Stage::Cart, "product 2 is still in the cart");
        v.observe(&ev(RemoveFromCart, 2));
        v.observe(&ev(RemoveFromCart, 9));
        assert_eq!(v.stage(), Stage::CartEmptied);
        v.observe(&ev(Purchase, 5));
        assert_eq!(v.stage(), Stage::Purchased);
        // 40 views then a cart, more than a window: the cart is still seen.
        let mut long: Vec<Event> = vec![ev(Cart, 7)];
        long.extend((0..40).map(|i| ev(View, 100 + i)));
        assert_eq!(VisitState::of(&long).stage(), Stage::Cart);
        let t = StageThresholds::uniform(0.2);
        assert_eq!(t.of(Stage::Purchased), None);
        assert_eq!(t.of(Stage::CartEmptied), Some(0.2));
        assert_eq!(Stage::parse("cart_emptied"), Some(Stage::CartEmptied));
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<VisitState>(&json).unwrap(), v);
    }
}
