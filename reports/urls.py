from django.urls import path

from reports import board, circular_views, evidence_views, export_views, views

urlpatterns = [
    # Liaisons (reports/views.py)
    path("reports/", views.report_home, name="report-home"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report-edit"),
    path("reports/<int:pk>/history/", views.report_history, name="report-history"),
    path("plans/<slug:code>/reports/<str:period>/mine/", views.report_start, name="report-start"),
    # The office and leaders (reports/board.py)
    path("plans/<slug:code>/reports/<str:period>/", board.report_board, name="report-board"),
    path("reports/<int:pk>/return/", board.report_return, name="report-return"),
    path("reports/<int:pk>/return-item/", board.report_return_item, name="report-return-item"),
    path("reports/<int:pk>/accept/", board.report_accept, name="report-accept"),
    path("reports/<int:pk>/reopen/", board.report_reopen, name="report-reopen"),
    path("reports/<int:pk>/comment/", board.report_comment, name="report-comment"),
    path(
        "plans/<slug:code>/reports/<str:period>/circular/",
        circular_views.report_circular,
        name="report-circular",
    ),
    path(
        "plans/<slug:code>/reports/<str:period>/circular.xlsx",
        circular_views.report_circular_export,
        name="report-circular-export",
    ),
    path("plans/<slug:code>/periods/", board.period_list, name="period-list"),
    # The July and December workbooks (reports/export_views.py)
    path(
        "plans/<slug:code>/reports/<str:period>/export.xlsx",
        export_views.report_export,
        name="report-export",
    ),
    path(
        "reports/<int:pk>/export.xlsx",
        export_views.report_export_department,
        name="report-export-department",
    ),
    path("plans/<slug:code>/periods/<str:period>/", board.period_edit, name="period-edit"),
    # Evidence files on report items (reports/evidence_views.py)
    path(
        "reports/<int:pk>/items/<int:item_pk>/evidence/",
        evidence_views.evidence_upload,
        name="evidence-upload",
    ),
    path("reports/evidence/<int:pk>/", evidence_views.evidence_download, name="evidence-download"),
    path(
        "reports/evidence/<int:pk>/delete/",
        evidence_views.evidence_delete,
        name="evidence-delete",
    ),
]
