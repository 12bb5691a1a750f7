"""The pinned route table: (method, path) -> public?  A new endpoint must be added here."""

ROUTES = {
    # (method, path): public?
    ("GET", "/health"): True,
    ("POST", "/auth/signup"): True,
    ("POST", "/auth/confirm"): True,
    ("POST", "/auth/login"): True,
    ("POST", "/auth/resend-code"): True,
    ("GET", "/confirm-subscription"): True,
    ("GET", "/unsubscribe"): True,
    ("GET", "/media/{key}"): True,
    ("POST", "/save-user-details"): False,
    ("POST", "/get-user-profiles-and-teacher-search"): False,
    ("PUT", "/save-profile-img"): False,
    ("GET", "/get-profile-img-url"): False,
    ("POST", "/create-availability"): False,
    ("POST", "/delete-availability"): False,
    ("POST", "/get-teacher-slots"): False,
    ("POST", "/create-booking-request"): False,
    ("GET", "/get-pending-booking-slots"): False,
    ("POST", "/process-booking-response"): False,
    ("POST", "/cancel-booking"): False,
    ("GET", "/get-teacher-bookings"): False,
    ("GET", "/get-student-bookings"): False,
    ("GET", "/subscribe-email-notifications"): False,
}

# Routes outside the OpenAPI document (not API operations: pages and their static files), all
# public: (method or "MOUNT", path). The web client's page and assets: http/web.py.
PAGES = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("MOUNT", "/docs/assets"),
    ("GET", "/"),
    ("MOUNT", "/app"),
}
