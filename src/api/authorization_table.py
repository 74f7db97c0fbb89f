"""The declared permission of every field of the schema (see api.authorization).

Each type maps a rule to the fields it covers (space-separated). Rules:

* ``public``: no check of its own; open to every token that reached the parent object
  (a root field: to every valid token).
* ``needs a|b``: refused without scope a or b (a FORBIDDEN error; a mutation: a FORBIDDEN
  payload error).
* ``hidden a|b``: null (a list: empty) without scope a or b.
* ``per-object``: each object returned is checked by its own type's read scope (``node``,
  a job by its kind); listed scopes are the ones the resolver checks itself.

A new field or mutation must be added here, or the authorization matrix test fails.
"""

from __future__ import annotations

PUBLIC = "public"

DECLARED: dict[str, dict[str, str]] = {
    "Query": {
        PUBLIC: "viewer",
        "needs crm:read": "customer customers",
        "needs pipeline:read": "leads opportunities pipeline activities",
        "needs finance:read": "payments",
        "needs finance:read|sales:read": "invoices",
        "needs inventory:read": "item items warehouses",
        "needs planning:read": "mrpRun latestMrpRun plannedOrders",
        "needs production:read": "workOrders",
        "needs production:read|sales:read": "kittingAnalysis",
        "needs purchasing:read": "suppliers purchaseOrders",
        "needs sales:read": "quotes salesOrder salesOrders shipments",
        "per-object": "node nodes job",
        "needs admin": "webhooks webhookDeliveries",
    },
    "Mutation": {
        "needs admin": "retrySync createWebhook deleteWebhook",
        "needs costing:write": "runCosting runCostRollup",
        "needs costing:write|inventory:write": "updateItem",
        "needs crm:write": "createCustomer upsertCustomerByExternalRef",
        "needs pipeline:write": (
            "createLead convertLead createOpportunity moveOpportunity "
            "reopenOpportunity logActivity qualifyLead disqualifyLead completeActivity"
        ),
        "needs crm:write|finance:write": "updateCustomer",
        "needs crm:write|purchasing:write": "addContact updateContact removeContact",
        "needs finance:write": "releaseCreditHold invoiceSalesOrder recordPayment issueCreditNote",
        "needs inventory:write": (
            "createItem setBom adjustStock transferStock createWarehouse updateWarehouse "
            "allocateStock"
        ),
        "needs planning:write": "runMrp firmPlannedOrders",
        "needs pricing:simulate": "simulateQuote",
        "needs production:write": (
            "createWorkOrder createWorkOrdersForSalesOrders releaseWorkOrder issueWorkOrderMaterials "
            "reportProduction rescheduleWorkOrder cancelWorkOrder closeWorkOrder"
        ),
        "needs purchasing:write": (
            "createSupplier updateSupplier createPurchaseOrder receivePurchaseOrder "
            "updatePurchaseOrder cancelPurchaseOrder"
        ),
        "needs sales:write": (
            "createQuote updateQuote sendQuote rejectQuote convertQuoteToOrder createSalesOrder "
            "updateSalesOrder confirmSalesOrder"
        ),
        "needs sales:fulfil": "closeSalesOrderShort cancelSalesOrder shipSalesOrder",
    },
    "Subscription": {
        "needs sales:read": "orderStatusChanged",
        "per-object": "jobProgress",
    },
    "Activity": {
        PUBLIC: "id kind subject notes dueAt doneAt outcome createdAt done opportunity",
    },
    "ActivityConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "ActivityEdge": {
        PUBLIC: "cursor node",
    },
    "ActivityPayload": {
        PUBLIC: "activity errors",
    },
    "AllocateStockPayload": {
        PUBLIC: "allocations errors",
    },
    "AtpResult": {
        PUBLIC: "quantity availableNow date limitedBy",
    },
    "Bom": {
        PUBLIC: "outputQuantity version item lines",
    },
    "BomCost": {
        PUBLIC: "unitCost lines",
    },
    "BomCostLine": {
        PUBLIC: "quantity unitCost extendedCost component",
    },
    "BomLine": {
        PUBLIC: "quantity scrapRate component",
    },
    "Contact": {
        PUBLIC: "id name email phone title",
    },
    "ContactPayload": {
        PUBLIC: "contact errors",
    },
    "ConvertLeadPayload": {
        PUBLIC: "lead customer opportunity errors",
    },
    "CreateWebhookPayload": {
        PUBLIC: "webhook secret errors",
    },
    "CreditNote": {
        PUBLIC: "id number amount reason createdAt createdBy invoice customer",
    },
    "CreditNoteConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "CreditNoteEdge": {
        PUBLIC: "cursor node",
    },
    "CreditNotePayload": {
        PUBLIC: "creditNote invoice errors",
    },
    "CreditStatus": {
        PUBLIC: "limit openReceivables openOrders exposure available overdueAmount maxDaysOverdue",
    },
    "Customer": {
        PUBLIC: (
            "id code name email phone segment tags paymentTermsDays creditLimit version createdAt "
            "updatedAt contacts quotes orders externalRefs"
        ),
        "needs credit:read": "credit creditLimitHistory",
        "needs finance:read|sales:read": "invoices creditNotes",
        "needs pipeline:read": "opportunities",
        "hidden costing:read": "profitability",
    },
    "CustomerProfitability": {
        PUBLIC: "from to orders revenue cost margin marginPercent",
    },
    "DeleteWebhookPayload": {
        PUBLIC: "webhook errors",
    },
    "Margin": {
        PUBLIC: "revenue cost margin marginPercent",
    },
    "CreditLimitChange": {
        PUBLIC: "previousLimit newLimit changedBy changedAt",
    },
    "CustomerConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "CustomerEdge": {
        PUBLIC: "cursor node",
    },
    "CustomerPayload": {
        PUBLIC: "customer errors",
    },
    "ExternalRef": {
        PUBLIC: "system externalId status attempts lastError syncedAt",
    },
    "FirmPlannedOrdersPayload": {
        PUBLIC: "purchaseOrders workOrders errors",
    },
    "Invoice": {
        PUBLIC: (
            "id number issueDate dueDate total paidAmount creditedAmount balance status daysOverdue "
            "creditNotes customer salesOrder"
        ),
    },
    "InvoiceConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "InvoiceEdge": {
        PUBLIC: "cursor node",
    },
    "InvoicePayload": {
        PUBLIC: "invoice errors",
    },
    "Item": {
        PUBLIC: (
            "id sku name uom kind procurement leadTimeDays safetyStock scrapRate lotSizing "
            "fixedLotSize minOrderQuantity lotMultiple listPrice active version bom whereUsed stock "
            "onHand reserved available incoming availableToPromise externalRefs"
        ),
        "hidden costing:read": "standardCost averageCost stockValue bomCost rolledUpCost",
        "hidden purchasing:read": "defaultSupplier",
    },
    "ItemConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "ItemEdge": {
        PUBLIC: "cursor node",
    },
    "ItemPayload": {
        PUBLIC: "item errors",
    },
    "Job": {
        PUBLIC: "id kind status progress message error createdAt startedAt finishedAt",
    },
    "JobPayload": {
        PUBLIC: "job errors",
    },
    "KittingAnalysis": {
        PUBLIC: "complete buildableQuantity lines",
    },
    "KittingLine": {
        PUBLIC: "required available shortage coveredOn item",
    },
    "Lead": {
        PUBLIC: (
            "id name company email phone source status disqualificationReason owner createdAt "
            "customer opportunity"
        ),
    },
    "LeadConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "LeadEdge": {
        PUBLIC: "cursor node",
    },
    "LeadPayload": {
        PUBLIC: "lead errors",
    },
    "MrpRun": {
        PUBLIC: (
            "id startDate horizonDays forecastMinProbability itemsPlanned completedAt job "
            "plannedOrders messages"
        ),
    },
    "MrpRunPayload": {
        PUBLIC: "run errors",
    },
    "Opportunity": {
        PUBLIC: (
            "id name stage probability amount expectedCloseDate owner createdAt weightedAmount "
            "customer lines quotes activities"
        ),
    },
    "OpportunityConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "OpportunityEdge": {
        PUBLIC: "cursor node",
    },
    "OpportunityLine": {
        PUBLIC: "quantity unitPrice item",
    },
    "OpportunityPayload": {
        PUBLIC: "opportunity errors",
    },
    "OrderStatusEvent": {
        PUBLIC: "cursor status previousStatus reason occurredAt order",
    },
    "PageInfo": {
        PUBLIC: "hasNextPage hasPreviousPage startCursor endCursor",
    },
    "Payment": {
        PUBLIC: "id amount receivedOn reference customer",
    },
    "PaymentConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "PaymentEdge": {
        PUBLIC: "cursor node",
    },
    "PaymentPayload": {
        PUBLIC: "payment invoices errors",
    },
    "Pegging": {
        PUBLIC: "source quantity date parent",
        "hidden crm:read": "opportunity",
        "hidden production:read": "workOrder",
        "hidden sales:read": "salesOrder",
    },
    "PipelineStage": {
        PUBLIC: "stage count amount weightedAmount conversionRate",
    },
    "PlannedOrder": {
        PUBLIC: "id kind status quantity releaseDate dueDate number item pegging",
        "per-object production:read|purchasing:read": "firmedAs",
    },
    "PlannedOrderConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "PlannedOrderEdge": {
        PUBLIC: "cursor node",
    },
    "PlanningMessage": {
        PUBLIC: "severity message code item",
    },
    "PurchaseOrder": {
        PUBLIC: "id number status subcontract supplier lines",
    },
    "PurchaseOrderConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "PurchaseOrderEdge": {
        PUBLIC: "cursor node",
    },
    "PurchaseOrderLine": {
        PUBLIC: "quantity receivedQuantity cancelledQuantity dueDate id item",
        "hidden costing:read": "unitCost",
    },
    "PurchaseOrderPayload": {
        PUBLIC: "purchaseOrder errors",
    },
    "Quote": {
        PUBLIC: (
            "id number status validUntil notes rejectionReason version subtotal taxTotal total "
            "createdAt customer lines opportunity salesOrder"
        ),
    },
    "QuoteConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "QuoteEdge": {
        PUBLIC: "cursor node",
    },
    "QuoteLine": {
        PUBLIC: "quantity unitPrice discountPercent taxRate lineTotal item",
    },
    "QuotePayload": {
        PUBLIC: "quote errors",
    },
    "QuoteSimulation": {
        PUBLIC: "targetMarginPercent lines revenue customer",
        "hidden costing:read": "cost margin marginPercent",
    },
    "QuoteSimulationPayload": {
        PUBLIC: "simulation errors",
    },
    "RolledUpCost": {
        PUBLIC: "unitCost computedAt",
    },
    "SalesOrder": {
        PUBLIC: (
            "id number status currency requestedDate promisedDate subtotal taxTotal total "
            "creditHoldReason notes version createdAt updatedAt customer quote lines shipments "
            "invoices statusHistory externalRefs"
        ),
        "hidden production:read": "workOrders",
        "hidden costing:read": "margin",
    },
    "SalesOrderConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "SalesOrderEdge": {
        PUBLIC: "cursor node",
    },
    "SalesOrderLine": {
        PUBLIC: (
            "id quantity unitPrice discountPercent taxRate lineTotal shippedQuantity "
            "cancelledQuantity promisedDate item reservedQuantity backorderedQuantity"
        ),
    },
    "SalesOrderPayload": {
        PUBLIC: "order errors",
    },
    "Shipment": {
        PUBLIC: "id number shippedAt carrier trackingNumber salesOrder lines",
    },
    "ShipmentConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "ShipmentEdge": {
        PUBLIC: "cursor node",
    },
    "ShipmentLine": {
        PUBLIC: "quantity item",
    },
    "ShipmentPayload": {
        PUBLIC: "shipment order errors",
    },
    "SimulatedQuoteLine": {
        PUBLIC: "quantity unitPrice lineTotal item",
        "hidden costing:read": "unitCost",
    },
    "StockAdjustmentPayload": {
        PUBLIC: "stock errors",
    },
    "StockAllocation": {
        PUBLIC: "line order quantity",
    },
    "StockLevel": {
        PUBLIC: "onHand reserved available item warehouse",
    },
    "Supplier": {
        PUBLIC: "id code name email phone paymentTermsDays active version contacts externalRefs",
    },
    "SupplierConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "SupplierEdge": {
        PUBLIC: "cursor node",
    },
    "SupplierPayload": {
        PUBLIC: "supplier errors",
    },
    "TransferStockPayload": {
        PUBLIC: "from to errors",
    },
    "UserError": {
        PUBLIC: "code field message",
    },
    "Viewer": {
        PUBLIC: "name role scopes partner",
    },
    "Warehouse": {
        PUBLIC: "id code name isDefault version",
    },
    "WarehousePayload": {
        PUBLIC: "warehouse errors",
    },
    "Webhook": {
        PUBLIC: "id url events description active disabledReason createdAt",
    },
    "WebhookAttempt": {
        PUBLIC: "number attemptedAt durationMs httpStatus error",
    },
    "WebhookDelivery": {
        PUBLIC: "id eventId eventType occurredAt status nextAttemptAt createdAt finishedAt attempts",
    },
    "WebhookDeliveryConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "WebhookDeliveryEdge": {
        PUBLIC: "cursor node",
    },
    "WorkOrder": {
        PUBLIC: "id number quantity completedQuantity status startDate dueDate item salesOrder components",
        "hidden costing:read": "cost",
    },
    "WorkOrderComponent": {
        PUBLIC: "requiredQuantity issuedQuantity item",
    },
    "WorkOrderConnection": {
        PUBLIC: "edges pageInfo totalCount",
    },
    "WorkOrderCost": {
        PUBLIC: (
            "materialCost overheadCost totalCost unitCost computedAt variance revaluedAmount "
            "allocationBasis periodStart periodEnd"
        ),
    },
    "WorkOrderEdge": {
        PUBLIC: "cursor node",
    },
    "WorkOrderPayload": {
        PUBLIC: "workOrder errors",
    },
    "WorkOrdersPayload": {
        PUBLIC: "workOrders errors",
    },
}
