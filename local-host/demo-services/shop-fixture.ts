/**
 * The pretend application the simulated QA agent "tests": a small shop. Its
 * routes and test suite are fixed data, so every run gives the same answer.
 */

export interface ShopRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  description: string;
}

export interface ShopTest {
  test: string;
  route: string;
  /** Why it fails against the shop as shipped; null when it passes. */
  bug: string | null;
}

export const SHOP_ROUTES: readonly ShopRoute[] = [
  { method: 'POST', path: '/auth/login', description: 'sign in with email and password' },
  { method: 'GET', path: '/products', description: 'list products, paginated' },
  { method: 'GET', path: '/products/{id}', description: 'one product with price and stock' },
  { method: 'GET', path: '/cart', description: 'the current cart with its totals' },
  { method: 'POST', path: '/cart/items', description: 'add a product to the cart' },
  { method: 'DELETE', path: '/cart/items/{id}', description: 'remove an item from the cart' },
  { method: 'POST', path: '/checkout', description: 'pay for the cart and create an order' },
  { method: 'GET', path: '/orders/{id}', description: 'an order and its status' },
];

export const SHOP_TESTS: readonly ShopTest[] = [
  { test: 'test_login_success', route: 'POST /auth/login', bug: null },
  { test: 'test_login_wrong_password', route: 'POST /auth/login', bug: null },
  { test: 'test_list_products', route: 'GET /products', bug: null },
  { test: 'test_product_detail', route: 'GET /products/{id}', bug: null },
  { test: 'test_product_not_found', route: 'GET /products/{id}', bug: null },
  { test: 'test_view_cart', route: 'GET /cart', bug: null },
  { test: 'test_add_to_cart', route: 'POST /cart/items', bug: null },
  {
    test: 'test_add_to_cart_rejects_zero_quantity',
    route: 'POST /cart/items',
    bug: 'expected HTTP 422 for quantity 0, got 201 Created',
  },
  { test: 'test_remove_from_cart', route: 'DELETE /cart/items/{id}', bug: null },
  { test: 'test_checkout_success', route: 'POST /checkout', bug: null },
  {
    test: 'test_checkout_applies_discount_code',
    route: 'POST /checkout',
    bug: 'expected total 90.00 with code SAVE10, got 100.00',
  },
  { test: 'test_order_status', route: 'GET /orders/{id}', bug: null },
];
