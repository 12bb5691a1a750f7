"""The pinned route table: (method, path) -> public?  A new endpoint must be added here."""

ROUTES = {
    # (method, path): public?
    ("GET", "/health"): True,
    ("POST", "/auth/signup"): True,
    ("POST", "/auth/confirm"): True,
    ("POST", "/auth/login"): True,
    ("POST", "/auth/resend-code"): True,
    ("POST", "/auth/forgot-password"): True,
    ("POST", "/auth/reset-password"): True,
    ("POST", "/auth/change-password"): False,
    ("GET", "/confirm-subscription"): True,
    ("POST", "/confirm-subscription"): True,
    ("GET", "/unsubscribe"): True,
    ("POST", "/unsubscribe"): True,
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
    ("GET", "/email-subscription"): False,
    ("GET", "/account/export"): False,
    ("DELETE", "/account"): False,
}

# (method, path) -> operationId: the method names generated clients get. Renaming one breaks
# every generated client, so a new route adds its line here and an existing one never changes.
OPERATION_IDS = {
    ("GET", "/health"): "getHealth",
    ("POST", "/auth/signup"): "signup",
    ("POST", "/auth/confirm"): "confirmSignup",
    ("POST", "/auth/login"): "login",
    ("POST", "/auth/resend-code"): "resendCode",
    ("POST", "/auth/forgot-password"): "forgotPassword",
    ("POST", "/auth/reset-password"): "resetPassword",
    ("POST", "/auth/change-password"): "changePassword",
    # the links' GETs only show a page since issue 11 (mail scanners follow GET links); the
    # action, and its name, moved to the POST that the page's button sends
    ("GET", "/confirm-subscription"): "getConfirmSubscriptionPage",
    ("POST", "/confirm-subscription"): "confirmSubscription",
    ("GET", "/unsubscribe"): "getUnsubscribePage",
    ("POST", "/unsubscribe"): "unsubscribe",
    ("GET", "/media/{key}"): "getMediaFile",
    ("POST", "/save-user-details"): "saveUserDetails",
    ("POST", "/get-user-profiles-and-teacher-search"): "getUserProfilesAndTeacherSearch",
    ("PUT", "/save-profile-img"): "saveProfileImage",
    ("GET", "/get-profile-img-url"): "getProfileImageUrl",
    ("POST", "/create-availability"): "createAvailability",
    ("POST", "/delete-availability"): "deleteAvailability",
    ("POST", "/get-teacher-slots"): "getTeacherSlots",
    ("POST", "/create-booking-request"): "createBookingRequest",
    ("GET", "/get-pending-booking-slots"): "getPendingBookingSlots",
    ("POST", "/process-booking-response"): "processBookingResponse",
    ("POST", "/cancel-booking"): "cancelBooking",
    ("GET", "/get-teacher-bookings"): "getTeacherBookings",
    ("GET", "/get-student-bookings"): "getStudentBookings",
    ("GET", "/subscribe-email-notifications"): "subscribeEmailNotifications",
    ("GET", "/email-subscription"): "getEmailSubscription",
    ("GET", "/account/export"): "exportAccount",
    ("DELETE", "/account"): "deleteAccount",
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
