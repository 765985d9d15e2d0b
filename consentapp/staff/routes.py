"""The staff side's URL map: every staff page, the view that shows it and the job it serves.

Every view is deny-by-default (access.py): the gate refuses any endpoint whose view has no
@requires(permission) its role holds, except the sign-in page. `<id:...>` is a number an id
column can hold (database.DatabaseId): a bigger one is a 404, not a database error.
"""

from flask import Blueprint

from .views import (
    account,
    admin,
    audit,
    auth,
    course,
    dashboard,
    decisions,
    export,
    handover,
    records,
    verify,
)

GET, POST, GET_POST = ["GET"], ["POST"], ["GET", "POST"]


def register(bp: Blueprint) -> None:
    # Signing in and out, and one's own account.
    bp.add_url_rule("/login", view_func=auth.login, methods=GET_POST)
    bp.add_url_rule("/logout", view_func=auth.logout, methods=POST)
    bp.register_error_handler(429, auth.too_many_attempts)
    bp.add_url_rule("/account/password", view_func=account.change_password, methods=GET_POST)
    bp.add_url_rule("/session", view_func=account.session_status, methods=GET)
    bp.add_url_rule("/session/extend", view_func=account.session_extend, methods=POST)
    # Finding records, and handing the tablet to a patient.
    bp.add_url_rule("/", view_func=dashboard.records, methods=GET)
    bp.add_url_rule("/search", view_func=dashboard.search_records, methods=POST)
    bp.add_url_rule("/records.csv", view_func=export.records_csv, methods=GET)
    bp.add_url_rule("/hand-over", view_func=handover.hand_over, methods=POST)
    # One record: its page and its PDFs.
    bp.add_url_rule("/records/<record_id>", view_func=records.record, methods=GET)
    bp.add_url_rule("/records/<record_id>/pdf", view_func=records.download_pdf, methods=GET)
    bp.add_url_rule("/records/<record_id>/pdf/<id:version>", view_func=records.download_pdf,
                    methods=GET)
    bp.add_url_rule("/records/<record_id>/print", view_func=records.print_pdf, methods=GET)
    bp.add_url_rule("/records/<record_id>/aftercare", view_func=records.aftercare_sheet,
                    methods=GET)
    bp.add_url_rule("/records/<record_id>/fhir", view_func=records.fhir_bundle, methods=GET)
    # What staff decide about a record.
    bp.add_url_rule("/records/<record_id>/review", view_func=decisions.review, methods=POST)
    bp.add_url_rule("/records/<record_id>/countersign", view_func=decisions.countersign,
                    methods=POST)
    bp.add_url_rule("/records/<record_id>/withdraw", view_func=decisions.withdraw,
                    methods=POST)
    bp.add_url_rule("/records/<record_id>/photo-consent/withdraw",
                    view_func=decisions.withdraw_photo_consent, methods=POST)
    # A course's later visits.
    bp.add_url_rule("/records/<record_id>/check-in", view_func=course.start_check_in,
                    methods=POST)
    bp.add_url_rule("/records/<record_id>/new-consent", view_func=course.start_new_consent,
                    methods=POST)
    # Verifying a PDF.
    bp.add_url_rule("/verify", view_func=verify.verify_pdf, methods=GET_POST)
    bp.add_url_rule("/verify/<code>", view_func=verify.verify_record, methods=GET)
    # Administration.
    bp.add_url_rule("/admin/staff", view_func=admin.staff_list, methods=GET)
    bp.add_url_rule("/admin/staff/new", view_func=admin.staff_new, methods=GET_POST)
    bp.add_url_rule("/admin/staff/<id:user_id>", view_func=admin.staff_edit, methods=GET_POST)
    bp.add_url_rule("/admin/staff/<id:user_id>/deactivate", view_func=admin.staff_deactivate,
                    methods=POST)
    bp.add_url_rule("/admin/staff/<id:user_id>/reactivate", view_func=admin.staff_reactivate,
                    methods=POST)
    bp.add_url_rule("/admin/staff/<id:user_id>/reset-password",
                    view_func=admin.staff_reset_password, methods=POST)
    bp.add_url_rule("/admin/settings", view_func=admin.settings, methods=GET)
    bp.add_url_rule("/admin/audit", view_func=audit.audit_log, methods=GET)
    bp.add_url_rule("/admin/audit.csv", view_func=audit.audit_csv, methods=GET)
